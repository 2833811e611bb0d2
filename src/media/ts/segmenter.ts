// Cuts one recording's TS segments out of a shared TsLoop (contract item 5 of IVR-RPC.md):
// segments start on a video key frame once `seg_duration` is reached, each a standalone TS
// (PAT + PMT first), with PTS/DTS/PCR shifted by the loop count so the timeline runs on across
// passes, and continuity counters carried from one segment to the next.
import type { TsLoop } from './loop.js';
import {
  hasPayload,
  pidOf,
  readPcrBase,
  readTimestamp,
  setContinuity,
  TS_CLOCK,
  TS_PACKET_SIZE,
  writePcrBase,
  writeTimestamp,
} from './packet.js';

export interface TsSegmenterOptions {
  /** GOP of the pass to start at (spreads recordings over the loop); default 0. */
  startGop?: number;
}

export interface TsSegment {
  /** A standalone TS: PAT, PMT, then media packets. Owned by the caller. */
  bytes: Buffer;
  /** Media time of the segment's first frame since the recording's first segment, seconds. */
  mediaStartSec: number;
  /** Media time until the next segment's first frame, seconds. */
  durationSec: number;
  /** Video key frames (GOP starts) inside the segment. */
  keyframes: number;
  /** False only after a size cut inside a GOP (see `cutBySize`). */
  startsWithKeyframe: boolean;
  /** True when `maxBytes` ended the segment before `segDurationSec` was reached. */
  cutBySize: boolean;
  /** First presentation time, 90 kHz ticks, unwrapped (the bytes carry it modulo 2^33). */
  pts: number;
}

const PSI_PACKETS = 2;

export class TsSegmenter {
  readonly #loop: TsLoop;
  /** Absolute position: pass × order.length + index into order. */
  #position: number;
  readonly #origin: number;
  /** Last continuity counter per PID slot (15 = none yet, so the first packet gets 0). */
  readonly #cc: Uint8Array;

  constructor(loop: TsLoop, options: TsSegmenterOptions = {}) {
    const startGop = options.startGop ?? 0;
    if (!Number.isInteger(startGop) || startGop < 0 || startGop >= loop.gopCount) {
      throw new RangeError(`startGop must be an integer in [0, ${loop.gopCount - 1}]`);
    }
    this.#loop = loop;
    this.#cc = new Uint8Array(loop.slotCount).fill(15);
    this.#position = loop.gopStart[startGop]!;
    this.#origin = loop.timeAt(this.#position);
  }

  /** Media seconds cut so far (the next segment's mediaStartSec). */
  get mediaTimeSec(): number {
    return (this.#loop.timeAt(this.#position) - this.#origin) / TS_CLOCK;
  }

  /** Whether the next segment will start on a key frame (false only after a mid-GOP size cut). */
  get atKeyframe(): boolean {
    return this.#loop.isGopStart(this.#position);
  }

  /**
   * The next segment: whole GOPs until `segDurationSec` is reached. With `maxBytes`, the segment
   * ends early at the last key frame that keeps it within the cap; a single GOP above the cap is
   * cut at the cap and the rest of that GOP opens the next segment.
   */
  next(segDurationSec: number, maxBytes = Number.POSITIVE_INFINITY): TsSegment {
    if (!(segDurationSec > 0)) throw new RangeError('segDurationSec must be > 0');
    const maxPackets = Math.floor(maxBytes / TS_PACKET_SIZE) - PSI_PACKETS;
    if (!(maxPackets >= 1))
      throw new RangeError(`maxBytes must be at least ${(PSI_PACKETS + 1) * TS_PACKET_SIZE}`);
    const loop = this.#loop;
    const start = this.#position;
    const startTime = loop.timeAt(start);
    const target = startTime + Math.round(segDurationSec * TS_CLOCK);
    let end = start;
    let keyframes = 0;
    let cutBySize = false;
    for (;;) {
      const boundary = loop.nextGopStart(end);
      if (boundary - start > maxPackets) {
        if (end === start) {
          end = start + maxPackets; // one GOP alone is over the cap
          if (loop.isGopStart(start)) keyframes++;
        }
        cutBySize = true;
        break;
      }
      if (loop.isGopStart(end)) keyframes++;
      end = boundary;
      if (loop.timeAt(end) >= target) break;
    }
    this.#position = end;
    const endTime = loop.timeAt(end);
    return {
      bytes: this.#write(start, end),
      mediaStartSec: (startTime - this.#origin) / TS_CLOCK,
      durationSec: (endTime - startTime) / TS_CLOCK,
      keyframes,
      startsWithKeyframe: loop.isGopStart(start),
      cutBySize,
      pts: startTime,
    };
  }

  #write(start: number, end: number): Buffer {
    const loop = this.#loop;
    const { bytes, pcrAt, ptsAt, dtsAt, pat, pmt } = loop.index;
    const n = loop.order.length;
    const out = Buffer.allocUnsafe((end - start + PSI_PACKETS) * TS_PACKET_SIZE);
    out.set(pat, 0);
    this.#stamp(out, 0);
    out.set(pmt, TS_PACKET_SIZE);
    this.#stamp(out, TS_PACKET_SIZE);
    let o = PSI_PACKETS * TS_PACKET_SIZE;
    for (let p = start; p < end; ) {
      const pass = Math.floor(p / n);
      const shift = pass * loop.period;
      const stop = Math.min(end, (pass + 1) * n);
      const { order } = loop;
      const j0 = p - pass * n;
      const j1 = stop - pass * n;
      // Copy runs of packets that are consecutive in the source with one set() each (most are).
      for (let j = j0, q = o; j < j1; ) {
        let r = j + 1;
        while (r < j1 && order[r] === order[r - 1]! + 1) r++;
        const at = order[j]! * TS_PACKET_SIZE;
        out.set(bytes.subarray(at, at + (r - j) * TS_PACKET_SIZE), q);
        q += (r - j) * TS_PACKET_SIZE;
        j = r;
      }
      for (let j = j0; j < j1; j++, o += TS_PACKET_SIZE) {
        this.#stamp(out, o);
        if (shift === 0) continue;
        const i = order[j]!;
        const pcr = pcrAt[i]!;
        if (pcr) writePcrBase(out, o + pcr, readPcrBase(out, o + pcr) + shift);
        const pts = ptsAt[i]!;
        if (pts) writeTimestamp(out, o + pts, readTimestamp(out, o + pts) + shift);
        const dts = dtsAt[i]!;
        if (dts) writeTimestamp(out, o + dts, readTimestamp(out, o + dts) + shift);
      }
      p = stop;
    }
    return out;
  }

  // Continuity counters count payload-carrying packets per PID and run on across segments.
  #stamp(out: Buffer, o: number): void {
    const slot = this.#loop.pidSlot[pidOf(out, o)]!;
    let cc = this.#cc[slot]!;
    if (hasPayload(out, o)) {
      cc = (cc + 1) & 0x0f;
      this.#cc[slot] = cc;
    }
    setContinuity(out, o, cc);
  }
}
