// MPEG-TS packet level (ISO/IEC 13818-1): field offsets, and reading/writing the 33-bit
// timestamps (PTS/DTS in PES headers, PCR in adaptation fields) in place.

export const TS_PACKET_SIZE = 188;
export const SYNC_BYTE = 0x47;
export const PAT_PID = 0;
export const SDT_PID = 0x11;
export const NULL_PID = 0x1fff;
/** 90 kHz clock of PTS/DTS and of the PCR base. */
export const TS_CLOCK = 90_000;
/** PTS, DTS and PCR base are 33-bit counters that wrap. */
export const TS_WRAP = 2 ** 33;

export function pidOf(b: Uint8Array, at: number): number {
  return ((b[at + 1]! & 0x1f) << 8) | b[at + 2]!;
}

/** payload_unit_start_indicator: a PES or a PSI section starts in this packet. */
export function isUnitStart(b: Uint8Array, at: number): boolean {
  return (b[at + 1]! & 0x40) !== 0;
}

export function hasAdaptation(b: Uint8Array, at: number): boolean {
  return (b[at + 3]! & 0x20) !== 0;
}

export function hasPayload(b: Uint8Array, at: number): boolean {
  return (b[at + 3]! & 0x10) !== 0;
}

/** Offset (from the packet start) of the payload, or -1 when the packet has none. */
export function payloadOffset(b: Uint8Array, at: number): number {
  if (!hasPayload(b, at)) return -1;
  const off = hasAdaptation(b, at) ? 5 + b[at + 4]! : 4;
  return off < TS_PACKET_SIZE ? off : -1;
}

/** random_access_indicator of the adaptation field (set by muxers on key frames). */
export function isRandomAccess(b: Uint8Array, at: number): boolean {
  return hasAdaptation(b, at) && b[at + 4]! > 0 && (b[at + 5]! & 0x40) !== 0;
}

/** Offset of the 6-byte PCR inside the packet, or 0 when the packet carries none. */
export function pcrOffset(b: Uint8Array, at: number): number {
  return hasAdaptation(b, at) && b[at + 4]! >= 7 && (b[at + 5]! & 0x10) !== 0 ? 6 : 0;
}

export function setContinuity(b: Uint8Array, at: number, cc: number): void {
  b[at + 3] = (b[at + 3]! & 0xf0) | (cc & 0x0f);
}

/** Reads a 5-byte PES timestamp (PTS or DTS) as a number of 90 kHz ticks. */
export function readTimestamp(b: Uint8Array, at: number): number {
  return (
    ((b[at]! >> 1) & 0x07) * 2 ** 30 +
    (b[at + 1]! << 22) +
    ((b[at + 2]! >> 1) << 15) +
    (b[at + 3]! << 7) +
    (b[at + 4]! >> 1)
  );
}

/** Writes a PES timestamp keeping the 4-bit prefix and the marker bits already there. */
export function writeTimestamp(b: Uint8Array, at: number, ticks: number): void {
  const t = ((ticks % TS_WRAP) + TS_WRAP) % TS_WRAP;
  const high = Math.floor(t / 2 ** 30); // bits 32..30
  const low = t - high * 2 ** 30; // 30 bits: safe for 32-bit operators
  b[at] = (b[at]! & 0xf1) | (high << 1);
  b[at + 1] = (low >>> 22) & 0xff;
  b[at + 2] = (((low >>> 15) & 0x7f) << 1) | 1;
  b[at + 3] = (low >>> 7) & 0xff;
  b[at + 4] = ((low & 0x7f) << 1) | 1;
}

/** PCR base (33 bits, 90 kHz) at `at`; the 9-bit 27 MHz extension is left alone. */
export function readPcrBase(b: Uint8Array, at: number): number {
  return b[at]! * 2 ** 25 + (b[at + 1]! << 17) + (b[at + 2]! << 9) + (b[at + 3]! << 1) + (b[at + 4]! >> 7);
}

export function writePcrBase(b: Uint8Array, at: number, ticks: number): void {
  const t = ((ticks % TS_WRAP) + TS_WRAP) % TS_WRAP;
  b[at] = Math.floor(t / 2 ** 25) & 0xff;
  const low = t % 2 ** 25;
  b[at + 1] = (low >>> 17) & 0xff;
  b[at + 2] = (low >>> 9) & 0xff;
  b[at + 3] = (low >>> 1) & 0xff;
  b[at + 4] = ((low & 1) << 7) | (b[at + 4]! & 0x7f);
}

/**
 * Where the PTS and DTS of a PES header starting at `payload` sit (offsets from the packet start),
 * 0 when absent. Returns undefined when the payload is not a PES header.
 */
export function pesTimestampOffsets(
  b: Uint8Array,
  at: number,
  payload: number,
): { pts: number; dts: number } | undefined {
  const p = at + payload;
  if (payload + 14 > TS_PACKET_SIZE) return undefined;
  if (b[p] !== 0 || b[p + 1] !== 0 || b[p + 2] !== 1) return undefined;
  const flags = b[p + 7]! >> 6;
  return {
    pts: flags & 0b10 ? payload + 9 : 0,
    dts: flags === 0b11 && payload + 19 <= TS_PACKET_SIZE ? payload + 14 : 0,
  };
}

/** Offset of the PES payload (elementary stream bytes) in a PES-start packet. */
export function pesDataOffset(b: Uint8Array, at: number, payload: number): number {
  return payload + 9 + b[at + payload + 8]!;
}
