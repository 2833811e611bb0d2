// A rendition's TS file seen as an endless loop, planned once and shared read-only by every
// recording of that rendition: packets regrouped by GOP, loop period, key frame times.
import { readFileSync } from 'node:fs';
import { TS_PACKET_SIZE } from './packet.js';
import { readTs, TsFormatError, type TsIndex } from './reader.js';
import { TsSegmenter, type TsSegmenterOptions } from './segmenter.js';

const shared = new Map<string, TsLoop>();

export class TsLoop {
  readonly index: TsIndex;
  /**
   * Source packet indices in loop order: GOP after GOP, each GOP holding the packets of the PES
   * units that start inside it (an audio PES that straddles a key frame stays whole in the GOP
   * it began in). PSI, null and orphan packets are left out; segments get their own PAT/PMT.
   */
  readonly order: Uint32Array;
  /** Position in `order` where each GOP starts; one extra entry = order.length. */
  readonly gopStart: Uint32Array;
  /** PTS of each GOP's key frame (90 kHz, as in the source). */
  readonly gopPts: Float64Array;
  /** Length of one pass in 90 kHz ticks: video span + one frame. Loop k adds k × period. */
  readonly period: number;
  /** Most common video frame duration, 90 kHz ticks. */
  readonly frameTicks: number;
  /** PID → small slot number (PAT, PMT, elementary streams) for per-recording counter arrays. */
  readonly pidSlot: Uint8Array;
  readonly slotCount: number;

  constructor(source: Uint8Array | TsIndex) {
    const index = source instanceof Uint8Array ? readTs(source) : source;
    this.index = index;
    const { pes } = index;
    const keys = pes.filter((u) => u.kind === 'video' && u.key && u.pts >= 0);
    if (keys.length === 0) throw new TsFormatError('no video key frame');
    const first = keys[0]!;
    const video = pes.filter((u) => u.kind === 'video' && u.packet >= first.packet && u.dts >= 0);
    if (video.length < 2) throw new TsFormatError('need at least two video frames to loop');
    this.frameTicks = modeOfSteps(video.map((u) => u.dts));
    this.period = video[video.length - 1]!.dts - first.dts + this.frameTicks;

    // PES unit → GOP. Units reaching past the pass (first pts of the PID + period) would overlap
    // the next pass, so they are dropped: timestamps stay monotonic per PID.
    const gopOf = new Int32Array(pes.length).fill(-1);
    const firstPts = new Map<number, number>();
    const gopPts: number[] = [];
    let gop = 0;
    pes.forEach((u, n) => {
      if (u.kind === 'video' && u.packet < first.packet) return; // undecodable before the first key
      if (u.kind === 'video' && u.key && u.packet >= first.packet && u.pts >= 0) {
        gop = gopPts.length;
        gopPts.push(u.pts);
      }
      const t = u.pts >= 0 ? u.pts : u.dts;
      if (t >= 0) {
        const f = firstPts.get(u.pid) ?? t;
        firstPts.set(u.pid, f);
        // audio must also *end* within the pass: a PES of several AAC frames crossing the end
        // would overlap the next pass's first one (a short gap is harmless, an overlap is not)
        const end = u.kind === 'video' ? t : t + Math.max(0, u.duration);
        if (t >= f + this.period || end > f + this.period) return;
      }
      gopOf[n] = gop;
    });

    const counts = new Uint32Array(gopPts.length);
    for (let i = 0; i < index.packetCount; i++) {
      const o = index.owner[i]!;
      if (o >= 0 && gopOf[o]! >= 0) counts[gopOf[o]!]!++;
    }
    this.gopStart = new Uint32Array(gopPts.length + 1);
    for (let g = 0; g < gopPts.length; g++) this.gopStart[g + 1] = this.gopStart[g]! + counts[g]!;
    this.order = new Uint32Array(this.gopStart[gopPts.length]!);
    const fill = this.gopStart.slice(0, gopPts.length);
    for (let i = 0; i < index.packetCount; i++) {
      const o = index.owner[i]!;
      if (o >= 0 && gopOf[o]! >= 0) this.order[fill[gopOf[o]!]!++] = i;
    }
    this.gopPts = Float64Array.from(gopPts);
    this.pidSlot = new Uint8Array(8192);
    const pids = [0, index.pmtPid, ...index.streams.map((st) => st.pid)];
    pids.forEach((pid, slot) => {
      this.pidSlot[pid] = slot;
    });
    this.slotCount = pids.length;
  }

  static fromFile(path: string): TsLoop {
    return new TsLoop(readFileSync(path));
  }

  /** One loop per file per thread: every recording of a rendition shares it. */
  static shared(path: string): TsLoop {
    let loop = shared.get(path);
    if (!loop) {
      loop = TsLoop.fromFile(path);
      shared.set(path, loop);
    }
    return loop;
  }

  get gopCount(): number {
    return this.gopPts.length;
  }

  get periodSeconds(): number {
    return this.period / 90_000;
  }

  /** Media bytes of one pass (without the PAT/PMT each segment adds). */
  get passBytes(): number {
    return this.order.length * TS_PACKET_SIZE;
  }

  /** A new recording's cutter. Cheap: it holds a position and continuity counters. */
  segmenter(options: TsSegmenterOptions = {}): TsSegmenter {
    return new TsSegmenter(this, options);
  }

  /** Absolute position of the first GOP start strictly after `position`. */
  nextGopStart(position: number): number {
    const n = this.order.length;
    const loop = Math.floor(position / n);
    const g = gopIndexAt(this.gopStart, position - loop * n);
    return loop * n + this.gopStart[g + 1]!; // gopStart[gopCount] = n: the next pass's GOP 0
  }

  /** Whether a video key frame starts at this absolute position. */
  isGopStart(position: number): boolean {
    const n = this.order.length;
    const j = position - Math.floor(position / n) * n;
    return this.gopStart[gopIndexAt(this.gopStart, j)] === j;
  }

  /**
   * Presentation time (90 kHz, unwrapped: loop k adds k × period) at an absolute loop position:
   * the first video frame at or after it.
   */
  timeAt(position: number): number {
    const n = this.order.length;
    const loop = Math.floor(position / n);
    let j = position - loop * n;
    const { index, gopStart } = this;
    // fast path: GOP boundaries (the usual cut)
    const g = gopIndexAt(gopStart, j);
    if (gopStart[g] === j) return this.gopPts[g]! + loop * this.period;
    for (; j < n; j++) {
      const i = this.order[j]!;
      const o = index.owner[i]!;
      const u = index.pes[o]!;
      if (u.kind === 'video' && u.packet === i && u.pts >= 0) return u.pts + loop * this.period;
    }
    return this.gopPts[0]! + (loop + 1) * this.period;
  }
}

/** Index of the GOP containing position j (binary search over gopStart). */
function gopIndexAt(gopStart: Uint32Array, j: number): number {
  let lo = 0;
  let hi = gopStart.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (gopStart[mid]! <= j) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function modeOfSteps(times: number[]): number {
  const seen = new Map<number, number>();
  let best = 0;
  let bestCount = 0;
  for (let k = 1; k < times.length; k++) {
    const d = times[k]! - times[k - 1]!;
    if (d <= 0) continue;
    const c = (seen.get(d) ?? 0) + 1;
    seen.set(d, c);
    if (c > bestCount) {
      best = d;
      bestCount = c;
    }
  }
  if (best === 0) throw new TsFormatError('video timestamps do not advance');
  return best;
}
