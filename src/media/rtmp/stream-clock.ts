// The clock in the media: an H.264 SEI "user data unregistered" NAL unit carrying the wall-clock
// time (epoch ms) at which a key frame left the publisher. SEI travels inside the video bitstream,
// so it survives what servers do to a stream (RTMP relay, FLV and MPEG-TS/HLS repackaging), where
// FLV script data does not reach HLS at all (docs/viewers.md has the measurements).
//
// Payload: 16-byte UUID "ivtfarm-clock-v1" + 13 ASCII digits of the epoch ms. ASCII digits contain
// no 0x00 bytes, so the NAL never needs emulation-prevention bytes and can be written as-is.
import type { FlvFile } from '../flv.js';

const UUID = Buffer.from('ivtfarm-clock-v1', 'latin1');
const DIGITS = 13;
const NAL_SEI = 6;
const SEI_USER_DATA_UNREGISTERED = 5;
/** NAL body: header, payload type, payload size, UUID, digits, RBSP trailing bits. */
const NAL_BYTES = 1 + 1 + 1 + UUID.length + DIGITS + 1;

/** Bytes the clock adds to a key frame in an FLV/RTMP video tag (4-byte NAL length + NAL). */
export const CLOCK_SEI_BYTES = 4 + NAL_BYTES;

/**
 * Writes the clock NAL for `epochMs`, AVCC-framed (4-byte big-endian length first), into `dst` at
 * `off`; returns the position after it.
 */
export function writeClockSei(dst: Buffer, off: number, epochMs: number): number {
  let p = off;
  dst.writeUInt32BE(NAL_BYTES, p);
  p += 4;
  dst[p++] = NAL_SEI;
  dst[p++] = SEI_USER_DATA_UNREGISTERED;
  dst[p++] = UUID.length + DIGITS;
  UUID.copy(dst, p);
  p += UUID.length;
  writeClockDigits(dst, p, epochMs);
  p += DIGITS;
  dst[p++] = 0x80; // rbsp_stop_one_bit + alignment
  return p;
}

/** Offset of the digits inside the AVCC-framed clock NAL. */
const DIGITS_OFFSET = 4 + 3 + UUID.length;

/** The 13 ASCII digits of `epochMs` at `at`: what changes from one stamp to the next. */
export function writeClockDigits(dst: Buffer, at: number, epochMs: number): void {
  // Two small-integer halves: digit loops on doubles above 2^31 are slower.
  const ms = Math.max(0, Math.floor(epochMs));
  let hi = Math.floor(ms / 1e7);
  let lo = ms - hi * 1e7;
  for (let i = DIGITS - 1; i >= DIGITS - 7; i--) {
    dst[at + i] = 0x30 + (lo % 10);
    lo = (lo / 10) | 0;
  }
  for (let i = DIGITS - 8; i >= 0; i--) {
    dst[at + i] = 0x30 + (hi % 10);
    hi = (hi / 10) | 0;
  }
}

/** The clock NAL in Annex B form (start code + NAL), for MPEG-TS writers and tests. */
export function clockSeiAnnexB(epochMs: number): Buffer {
  const avcc = Buffer.allocUnsafe(CLOCK_SEI_BYTES);
  writeClockSei(avcc, 0, epochMs);
  avcc.writeUInt32BE(1, 0); // 00 00 00 01 replaces the length
  return avcc;
}

const FLV_VIDEO_HEADER = 5; // frame type/codec, AVCPacketType, composition time
const splits = new WeakMap<FlvFile, Int32Array>();

/**
 * Per tag of `media`: where the clock goes in a key frame's payload (offset of its first VCL NAL,
 * after any AUD/SPS/PPS/SEI, as H.264 wants SEI before the slices), or -1 for tags that get none
 * (audio, inter frames, payloads we cannot walk). Computed once per file and shared by all streams.
 */
export function clockSplits(media: FlvFile): Int32Array {
  let s = splits.get(media);
  if (s) return s;
  s = new Int32Array(media.tags.length).fill(-1);
  const lengthSize = avccLengthSize(media.videoConfig);
  media.tags.forEach((t, i) => {
    if (t.keyframe && lengthSize === 4) (s as Int32Array)[i] = firstVclOffset(t.payload);
  });
  splits.set(media, s);
  return s;
}

/** NAL length field size from the AVCDecoderConfigurationRecord (FLV body with its 5-byte header). */
/**
 * Per tag of `media`, for the publisher's hot path: key frames as stamped payloads (the tag with the
 * clock NAL already spliced in, digits to be written per send with writeClockDigits at
 * `digitsAt[i]`), null for tags without a clock. Built once per file and thread and shared by every
 * stream: a send stamps the template and copies it in the same synchronous step, so stamping costs
 * 13 byte writes instead of a second copy of the key frame.
 */
export interface ClockTemplates {
  readonly payloads: readonly (Buffer | null)[];
  readonly digitsAt: Int32Array;
}

const templates = new WeakMap<FlvFile, ClockTemplates>();

export function clockTemplates(media: FlvFile): ClockTemplates {
  let t = templates.get(media);
  if (t) return t;
  const at = clockSplits(media);
  const digitsAt = new Int32Array(media.tags.length).fill(-1);
  const payloads = media.tags.map((tag, i) => {
    const split = at[i] as number;
    if (split < 0) return null;
    const joined = Buffer.allocUnsafe(tag.payload.length + CLOCK_SEI_BYTES);
    tag.payload.copy(joined, 0, 0, split);
    writeClockSei(joined, split, 0);
    tag.payload.copy(joined, split + CLOCK_SEI_BYTES, split);
    digitsAt[i] = split + DIGITS_OFFSET;
    return joined;
  });
  t = { payloads, digitsAt };
  templates.set(media, t);
  return t;
}

function avccLengthSize(config: Buffer | null): number {
  if (!config || config.length < FLV_VIDEO_HEADER + 5) return 0;
  return ((config[FLV_VIDEO_HEADER + 4] as number) & 0x03) + 1;
}

function firstVclOffset(payload: Buffer): number {
  if (((payload[0] as number) & 0x0f) !== 7 || payload[1] !== 1) return -1; // AVC NALU packets only
  let p = FLV_VIDEO_HEADER;
  while (p + 5 <= payload.length) {
    const type = (payload[p + 4] as number) & 0x1f;
    if (type >= 1 && type <= 5) return p;
    p += 4 + payload.readUInt32BE(p);
  }
  return -1;
}

/** Reads our clock from one SEI NAL body (starting at its header byte); null if it is not ours. */
export function readClockFromSeiNal(buf: Buffer, start: number, end: number): number | null {
  let p = start + 1;
  while (p + 2 <= end) {
    let type = 0;
    while (p < end && buf[p] === 0xff) {
      type += 255;
      p++;
    }
    type += buf[p++] as number;
    let size = 0;
    while (p < end && buf[p] === 0xff) {
      size += 255;
      p++;
    }
    size += buf[p++] as number;
    if (p + size > end) return null;
    if (type === SEI_USER_DATA_UNREGISTERED && size === UUID.length + DIGITS && isOurUuid(buf, p)) {
      let v = 0;
      for (let i = p + UUID.length; i < p + size; i++) {
        const d = (buf[i] as number) - 0x30;
        if (d < 0 || d > 9) return null;
        v = v * 10 + d;
      }
      return v;
    }
    p += size;
    if (buf[p] === 0x80) return null; // trailing bits: no more messages
  }
  return null;
}

function isOurUuid(buf: Buffer, p: number): boolean {
  for (let i = 0; i < UUID.length; i++) if (buf[p + i] !== UUID[i]) return false;
  return true;
}

/** What a player needs from one video access unit. */
export interface FrameInfo {
  key: boolean;
  /** The clock in the frame, epoch ms; null when it carries none. */
  clock: number | null;
}

/**
 * Walks an FLV/RTMP AVC video tag body (5-byte header + 4-byte-length NALs): key frame (an IDR
 * slice) and our clock. Only NAL headers are read, never slice data.
 */
export function inspectAvcTag(payload: Buffer, into: FrameInfo): FrameInfo {
  into.key = false;
  into.clock = null;
  if (payload.length < FLV_VIDEO_HEADER || ((payload[0] as number) & 0x0f) !== 7 || payload[1] !== 1) {
    return into;
  }
  into.key = (payload[0] as number) >> 4 === 1;
  if (!into.key) return into; // the clock rides on key frames only: skip the walk
  let p = FLV_VIDEO_HEADER;
  while (p + 5 <= payload.length) {
    const len = payload.readUInt32BE(p);
    const end = Math.min(payload.length, p + 4 + len);
    const type = (payload[p + 4] as number) & 0x1f;
    if (type === NAL_SEI && into.clock === null) into.clock = readClockFromSeiNal(payload, p + 4, end);
    if (type >= 1 && type <= 5) break; // slices follow: SEI cannot come after them
    p = end;
  }
  return into;
}

/**
 * Walks an Annex B access unit (a PES payload of an MPEG-TS video stream): key frame (an IDR
 * slice) and our clock. Stops at the first slice.
 */
export function inspectAnnexB(buf: Buffer, into: FrameInfo): FrameInfo {
  into.key = false;
  into.clock = null;
  let nal = nextStartCode(buf, 0);
  while (nal >= 0) {
    const next = nextStartCode(buf, nal);
    let end = next < 0 ? buf.length : next - 3;
    if (end > nal && buf[end - 1] === 0) end--; // 4-byte start code of the next NAL
    const type = (buf[nal] as number) & 0x1f;
    if (type === NAL_SEI && into.clock === null) into.clock = readClockFromSeiNal(buf, nal, end);
    if (type === 5) into.key = true;
    if (type >= 1 && type <= 5) break;
    nal = next;
  }
  return into;
}

/** Position just after the next 00 00 01 at or after `from`, or -1. */
function nextStartCode(buf: Buffer, from: number): number {
  for (let i = from; i + 2 < buf.length; i++) {
    if ((buf[i + 2] as number) > 1) {
      i += 2;
      continue;
    }
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) return i + 3;
  }
  return -1;
}
