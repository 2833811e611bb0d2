// Incremental MPEG-TS reader for players: finds the H.264 video PID from PAT/PMT and reports each
// video access unit (PES) when it completes, with its PTS and what the first bytes say (key frame,
// stream clock). Only the head of each access unit is copied (NAL headers, SPS/PPS/SEI); the slice
// data is skipped. Packets are fed as they arrive, in any split.
import { type FrameInfo, inspectAnnexB } from '../media/rtmp/stream-clock.js';

export type VideoUnitHandler = (ptsMs: number, key: boolean, clock: number | null) => void;

export class TsStreamError extends Error {
  override name = 'TsStreamError';
}

const PACKET = 188;
const STREAM_TYPE_H264 = 0x1b;
/** Bytes of each access unit kept for inspection: AUD, SPS, PPS, SEI (x264's own SEI is ~700 B). */
const HEAD_BYTES = 4096;

export class TsVideoReader {
  private carry: Buffer | null = null;
  private pmtPid = -1;
  private videoPid = -1;
  private readonly head = Buffer.allocUnsafe(HEAD_BYTES);
  private headLength = 0;
  private pts = -1;
  private inUnit = false;
  private lastPts = -1;
  private ptsBase = 0;
  private readonly info: FrameInfo = { key: false, clock: null };

  constructor(private readonly onUnit: VideoUnitHandler) {}

  push(data: Buffer): void {
    let buf = data;
    if (this.carry) {
      buf = Buffer.concat([this.carry, data]);
      this.carry = null;
    }
    let pos = 0;
    while (buf.length - pos >= PACKET) {
      if (buf[pos] !== 0x47) throw new TsStreamError(`lost TS sync at byte ${pos}`);
      this.packet(buf, pos);
      pos += PACKET;
    }
    if (pos < buf.length) this.carry = Buffer.from(buf.subarray(pos));
  }

  /** End of a segment: the last access unit is complete. */
  flush(): void {
    this.finishUnit();
    this.carry = null;
  }

  private packet(buf: Buffer, pos: number): void {
    const pid = (((buf[pos + 1] as number) & 0x1f) << 8) | (buf[pos + 2] as number);
    const pusi = ((buf[pos + 1] as number) & 0x40) !== 0;
    const afc = ((buf[pos + 3] as number) >> 4) & 0x03;
    let p = pos + 4;
    if (afc === 2 || afc === 0) return; // no payload
    if (afc === 3) p += 1 + (buf[p] as number);
    const end = pos + PACKET;
    if (p >= end) return;
    if (pid === this.videoPid) this.video(buf, p, end, pusi);
    else if (pid === 0 && pusi) this.pat(buf, p + 1 + (buf[p] as number), end);
    else if (pid === this.pmtPid && pusi) this.pmt(buf, p + 1 + (buf[p] as number), end);
  }

  private pat(buf: Buffer, p: number, end: number): void {
    const sectionEnd = Math.min(
      end,
      p + 3 + ((((buf[p + 1] as number) & 0x0f) << 8) | (buf[p + 2] as number)) - 4,
    );
    for (let q = p + 8; q + 4 <= sectionEnd; q += 4) {
      const program = buf.readUInt16BE(q);
      if (program !== 0) {
        this.pmtPid = buf.readUInt16BE(q + 2) & 0x1fff;
        return;
      }
    }
  }

  private pmt(buf: Buffer, p: number, end: number): void {
    const sectionEnd = Math.min(
      end,
      p + 3 + ((((buf[p + 1] as number) & 0x0f) << 8) | (buf[p + 2] as number)) - 4,
    );
    const infoLength = buf.readUInt16BE(p + 10) & 0x0fff;
    for (let q = p + 12 + infoLength; q + 5 <= sectionEnd; ) {
      const type = buf[q] as number;
      const pid = buf.readUInt16BE(q + 1) & 0x1fff;
      if (type === STREAM_TYPE_H264) {
        this.videoPid = pid;
        return;
      }
      q += 5 + (buf.readUInt16BE(q + 3) & 0x0fff);
    }
  }

  private video(buf: Buffer, p: number, end: number, pusi: boolean): void {
    if (pusi) {
      this.finishUnit();
      // PES header: start code (3), stream id, length (2), flags (2), header length, PTS.
      if (buf[p] !== 0 || buf[p + 1] !== 0 || buf[p + 2] !== 1) throw new TsStreamError('bad PES start code');
      const flags = buf[p + 7] as number;
      const headerLength = buf[p + 8] as number;
      this.pts = flags & 0x80 ? readPts(buf, p + 9) : -1;
      this.inUnit = true;
      this.headLength = 0;
      p += 9 + headerLength;
    }
    if (!this.inUnit || this.headLength >= HEAD_BYTES) return;
    const n = Math.min(end - p, HEAD_BYTES - this.headLength);
    buf.copy(this.head, this.headLength, p, p + n);
    this.headLength += n;
  }

  private finishUnit(): void {
    if (!this.inUnit) return;
    this.inUnit = false;
    if (this.pts < 0) return;
    const f = inspectAnnexB(this.head.subarray(0, this.headLength), this.info);
    this.onUnit(this.unwrapMs(this.pts), f.key, f.clock);
  }

  /** 33-bit PTS → ms on a timeline that keeps growing across the wrap (every ~26.5 h). */
  private unwrapMs(pts: number): number {
    if (this.lastPts >= 0 && pts < this.lastPts - 2 ** 32) this.ptsBase += 2 ** 33;
    this.lastPts = pts;
    return (pts + this.ptsBase) / 90;
  }
}

function readPts(buf: Buffer, p: number): number {
  const b0 = buf[p] as number;
  const hi = (b0 >> 1) & 0x07;
  const mid = buf.readUInt16BE(p + 1) >> 1;
  const lo = buf.readUInt16BE(p + 3) >> 1;
  return hi * 2 ** 30 + mid * 2 ** 15 + lo;
}
