// MPEG-TS reader: indexes a whole file once (packets, program, PES units = access units, key
// frames with PTS/DTS). The index is immutable and shared by every segmenter of a rendition.
import { scanAdts } from './adts.js';
import {
  isRandomAccess,
  isUnitStart,
  NULL_PID,
  PAT_PID,
  payloadOffset,
  pcrOffset,
  pesDataOffset,
  pesTimestampOffsets,
  pidOf,
  readTimestamp,
  SYNC_BYTE,
  TS_PACKET_SIZE,
} from './packet.js';

export type StreamKind = 'video' | 'audio' | 'other';

export interface ElementaryStream {
  pid: number;
  /** stream_type of the PMT: 0x1b H.264, 0x24 H.265, 0x0f AAC (ADTS), ... */
  streamType: number;
  kind: StreamKind;
}

/** One PES packet. For video muxed by ffmpeg (and most cameras) this is one access unit. */
export interface PesUnit {
  pid: number;
  kind: StreamKind;
  /** Index of the TS packet the PES starts in. */
  packet: number;
  /** 90 kHz ticks; -1 when the PES header carries none. */
  pts: number;
  /** Equal to pts when the header has no separate DTS. */
  dts: number;
  /** Video only: random access point (adaptation-field flag, or an IDR / IRAP NAL in the data). */
  key: boolean;
  /**
   * 90 kHz ticks the unit lasts: from its ADTS headers for AAC, else until the next unit of its
   * PID; -1 when unknown (the last non-AAC unit of a PID).
   */
  duration: number;
}

export interface TsIndex {
  bytes: Uint8Array;
  packetCount: number;
  /** PAT and PMT packets copied from the source (one packet each), replayed at segment starts. */
  pat: Uint8Array;
  pmt: Uint8Array;
  pmtPid: number;
  pcrPid: number;
  streams: ElementaryStream[];
  videoPid: number;
  /** PES units in file order. */
  pes: PesUnit[];
  /** Per packet: index into `pes` of the unit it belongs to, -1 for PSI, null and orphan packets. */
  owner: Int32Array;
  /** Per packet: offset of the PCR in the packet, 0 when none. */
  pcrAt: Uint8Array;
  /** Per packet: offsets of the PTS / DTS in the packet (PES start packets), 0 when none. */
  ptsAt: Uint8Array;
  dtsAt: Uint8Array;
}

export class TsFormatError extends Error {
  override name = 'TsFormatError';
}

const VIDEO_TYPES = new Set([0x01, 0x02, 0x10, 0x1b, 0x24]);
const AUDIO_TYPES = new Set([0x03, 0x04, 0x0f, 0x11, 0x81]);

export function readTs(input: Uint8Array): TsIndex {
  const bytes = input;
  if (bytes.length === 0 || bytes.length % TS_PACKET_SIZE !== 0) {
    throw new TsFormatError(`not a 188-byte packet stream (${bytes.length} bytes)`);
  }
  const packetCount = bytes.length / TS_PACKET_SIZE;
  for (let i = 0; i < packetCount; i++) {
    if (bytes[i * TS_PACKET_SIZE] !== SYNC_BYTE) throw new TsFormatError(`lost sync at packet ${i}`);
  }
  const { pat, pmtPid } = findPat(bytes, packetCount);
  const { pmt, pcrPid, streams } = findPmt(bytes, packetCount, pmtPid);
  const video = streams.find((s) => s.kind === 'video');
  if (!video) throw new TsFormatError('no video stream in the PMT');
  const kindOf = new Map(streams.map((s) => [s.pid, s]));

  const owner = new Int32Array(packetCount).fill(-1);
  const pcrAt = new Uint8Array(packetCount);
  const ptsAt = new Uint8Array(packetCount);
  const dtsAt = new Uint8Array(packetCount);
  const pes: PesUnit[] = [];
  const current = new Map<number, number>();
  for (let i = 0; i < packetCount; i++) {
    const at = i * TS_PACKET_SIZE;
    const pid = pidOf(bytes, at);
    if (pid === PAT_PID || pid === pmtPid || pid === NULL_PID) continue;
    pcrAt[i] = pid === pcrPid ? pcrOffset(bytes, at) : 0;
    const es = kindOf.get(pid);
    if (!es) continue;
    const payload = payloadOffset(bytes, at);
    if (isUnitStart(bytes, at) && payload > 0) {
      const ts = pesTimestampOffsets(bytes, at, payload);
      if (!ts) throw new TsFormatError(`packet ${i}: PID ${pid} unit start without a PES header`);
      ptsAt[i] = ts.pts;
      dtsAt[i] = ts.dts;
      const pts = ts.pts ? readTimestamp(bytes, at + ts.pts) : -1;
      const dts = ts.dts ? readTimestamp(bytes, at + ts.dts) : pts;
      current.set(pid, pes.length);
      pes.push({ pid, kind: es.kind, packet: i, pts, dts, key: false, duration: -1 });
    }
    owner[i] = current.get(pid) ?? -1; // packets before their PID's first PES start are orphans
  }
  const adtsPids = new Set(streams.filter((s) => s.streamType === 0x0f).map((s) => s.pid));
  const previous = new Map<number, PesUnit>();
  pes.forEach((u, n) => {
    if (u.kind === 'video') {
      u.key = isRandomAccess(bytes, u.packet * TS_PACKET_SIZE) || hasIrap(bytes, owner, n, u, video);
    } else if (adtsPids.has(u.pid)) {
      const a = scanAdts(collect(bytes, owner, n, u, packetCount));
      if (a.sampleRate > 0) u.duration = Math.round((a.samples * 90_000) / a.sampleRate);
    }
    const prev = previous.get(u.pid);
    if (prev && prev.duration < 0 && prev.pts >= 0 && u.pts >= 0) prev.duration = u.pts - prev.pts;
    previous.set(u.pid, u);
  });
  return {
    bytes,
    packetCount,
    pat,
    pmt,
    pmtPid,
    pcrPid,
    streams,
    videoPid: video.pid,
    pes,
    owner,
    pcrAt,
    ptsAt,
    dtsAt,
  };
}

/** The elementary-stream bytes of one PES unit (copied; for inspection and tests, not hot paths). */
export function pesData(index: TsIndex, unit: number): Buffer {
  const u = index.pes[unit]!;
  return collect(index.bytes, index.owner, unit, u, index.packetCount);
}

function collect(bytes: Uint8Array, owner: Int32Array, unit: number, u: PesUnit, limit: number): Buffer {
  const parts: Uint8Array[] = [];
  for (let i = u.packet; i < limit; i++) {
    const o = owner[i]!;
    if (o !== unit) {
      if (o > unit && pidOf(bytes, i * TS_PACKET_SIZE) === u.pid) break; // the next PES began
      continue;
    }
    const at = i * TS_PACKET_SIZE;
    let off = payloadOffset(bytes, at);
    if (off < 0) continue;
    if (i === u.packet) off = pesDataOffset(bytes, at, off);
    parts.push(bytes.subarray(at + off, at + TS_PACKET_SIZE));
  }
  return Buffer.concat(parts);
}

// Fallback when a muxer does not flag random access: look for an IDR (H.264 type 5) or IRAP
// (H.265 types 16-21) NAL among the access unit's first bytes (AUD, SPS, PPS come first).
function hasIrap(
  bytes: Uint8Array,
  owner: Int32Array,
  unit: number,
  u: PesUnit,
  es: ElementaryStream,
): boolean {
  const data = collect(bytes, owner, unit, u, Math.min(owner.length, u.packet + 64));
  const hevc = es.streamType === 0x24;
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 1) continue;
    const h = data[i + 3]!;
    const type = hevc ? (h >> 1) & 0x3f : h & 0x1f;
    if (hevc ? type >= 16 && type <= 21 : type === 5) return true;
    if (hevc ? type < 16 : type === 1) return false; // a non-key slice comes first
  }
  return false;
}

function sectionStart(bytes: Uint8Array, at: number): number {
  const payload = payloadOffset(bytes, at);
  if (payload < 0) return -1;
  return at + payload + 1 + bytes[at + payload]!; // skip pointer_field
}

function findPat(bytes: Uint8Array, packetCount: number): { pat: Uint8Array; pmtPid: number } {
  for (let i = 0; i < packetCount; i++) {
    const at = i * TS_PACKET_SIZE;
    if (pidOf(bytes, at) !== PAT_PID || !isUnitStart(bytes, at)) continue;
    const s = sectionStart(bytes, at);
    const length = ((bytes[s + 1]! & 0x0f) << 8) | bytes[s + 2]!;
    if (s + 3 + length > at + TS_PACKET_SIZE) throw new TsFormatError('PAT spans several packets');
    for (let p = s + 8; p + 4 <= s + 3 + length - 4; p += 4) {
      const program = (bytes[p]! << 8) | bytes[p + 1]!;
      if (program !== 0) {
        return {
          pat: bytes.slice(at, at + TS_PACKET_SIZE),
          pmtPid: ((bytes[p + 2]! & 0x1f) << 8) | bytes[p + 3]!,
        };
      }
    }
  }
  throw new TsFormatError('no PAT with a program');
}

function findPmt(
  bytes: Uint8Array,
  packetCount: number,
  pmtPid: number,
): { pmt: Uint8Array; pcrPid: number; streams: ElementaryStream[] } {
  for (let i = 0; i < packetCount; i++) {
    const at = i * TS_PACKET_SIZE;
    if (pidOf(bytes, at) !== pmtPid || !isUnitStart(bytes, at)) continue;
    const s = sectionStart(bytes, at);
    const length = ((bytes[s + 1]! & 0x0f) << 8) | bytes[s + 2]!;
    const end = s + 3 + length - 4; // before the CRC
    if (end + 4 > at + TS_PACKET_SIZE) throw new TsFormatError('PMT spans several packets');
    const pcrPid = ((bytes[s + 8]! & 0x1f) << 8) | bytes[s + 9]!;
    const infoLength = ((bytes[s + 10]! & 0x0f) << 8) | bytes[s + 11]!;
    const streams: ElementaryStream[] = [];
    for (let p = s + 12 + infoLength; p + 5 <= end; ) {
      const streamType = bytes[p]!;
      const pid = ((bytes[p + 1]! & 0x1f) << 8) | bytes[p + 2]!;
      const kind: StreamKind = VIDEO_TYPES.has(streamType)
        ? 'video'
        : AUDIO_TYPES.has(streamType)
          ? 'audio'
          : 'other';
      streams.push({ pid, streamType, kind });
      p += 5 + (((bytes[p + 3]! & 0x0f) << 8) | bytes[p + 4]!);
    }
    return { pmt: bytes.slice(at, at + TS_PACKET_SIZE), pcrPid, streams };
  }
  throw new TsFormatError(`no PMT on PID ${pmtPid}`);
}
