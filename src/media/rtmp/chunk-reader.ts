// RTMP chunk reader: reassembles messages from chunks of any format (fmt 0–3), any chunk stream id
// (1–3 byte basic headers), extended timestamps, and Set Chunk Size / Abort received in-band.
// A message that arrives in one chunk is handed out as a view of the socket buffer (no copy).
import { PendingBytes } from '../pending-bytes.js';
import { MSG_ABORT, MSG_SET_CHUNK_SIZE } from './constants.js';

export interface RtmpMessage {
  readonly csid: number;
  readonly type: number;
  readonly streamId: number;
  readonly timestamp: number;
  readonly payload: Buffer;
}

export class ChunkError extends Error {
  override name = 'ChunkError';
}

interface ChunkStream {
  timestamp: number;
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** Timestamp field of the last header was 0xFFFFFF: continuation chunks may repeat it. */
  extended: boolean;
  extendedValue: number;
  parts: Buffer[];
  received: number;
}

const EMPTY = Buffer.alloc(0);
/** Messages larger than this are refused: a bogus length must not make us buffer without limit. */
const MAX_MESSAGE = 8 * 1024 * 1024;

export class ChunkReader {
  /** Incoming chunk size: 128 until the peer sends Set Chunk Size. */
  chunkSize = 128;
  private readonly streams = new Map<number, ChunkStream>();
  private readonly pending = new PendingBytes();
  /** Bytes needed before parsing can progress; avoids re-concatenating a big chunk per TCP segment. */
  private needed = 1;
  private stopped = false;

  constructor(private readonly onMessage: (msg: RtmpMessage) => void) {}

  /** Stops parsing (e.g. a discard sink that only counts bytes from now on); the rest is dropped. */
  stop(): void {
    this.stopped = true;
    this.pending.clear();
  }

  /** Feeds socket data; throws ChunkError on a protocol violation. */
  push(data: Buffer): void {
    if (this.stopped) return;
    this.pending.add(data);
    if (this.pending.length < this.needed) return;
    const buf = this.pending.take();
    let pos = 0;
    for (;;) {
      const next = this.chunk(buf, pos);
      if (this.stopped) return;
      if (next < 0) break;
      pos = next;
    }
    this.pending.keepFrom(buf, pos);
  }

  /** Parses one chunk at `pos`; returns the position after it, or -1 if more bytes are needed. */
  private chunk(buf: Buffer, pos: number): number {
    const avail = buf.length - pos;
    if (avail < 1) return this.want(1);
    const b0 = buf[pos] as number;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    let p = pos + 1;
    if (csid === 0) {
      if (avail < 2) return this.want(2);
      csid = (buf[p] as number) + 64;
      p += 1;
    } else if (csid === 1) {
      if (avail < 3) return this.want(3);
      csid = (buf[p] as number) + (buf[p + 1] as number) * 256 + 64;
      p += 2;
    }
    const headerLen = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (buf.length - p < headerLen) return this.want(p - pos + headerLen);

    let cs = this.streams.get(csid);
    if (!cs) {
      if (fmt !== 0 && fmt !== 1) throw new ChunkError(`chunk stream ${csid} starts with fmt ${fmt}`);
      cs = {
        timestamp: 0,
        delta: 0,
        length: 0,
        type: 0,
        streamId: 0,
        extended: false,
        extendedValue: 0,
        parts: [],
        received: 0,
      };
      this.streams.set(csid, cs);
    }

    let field = 0;
    if (fmt <= 2) field = buf.readUIntBE(p, 3);
    const hasExtended = fmt <= 2 ? field === 0xffffff : cs.extended;
    const inMessage = cs.received > 0 && fmt === 3;
    let extLen = 0;
    let extValue = 0;
    if (hasExtended) {
      if (buf.length - p - headerLen < 4) return this.want(p - pos + headerLen + 4);
      extValue = buf.readUInt32BE(p + headerLen);
      // Continuations repeat the extended timestamp per the spec, but some encoders omit it.
      extLen = inMessage && extValue !== cs.extendedValue ? 0 : 4;
    }

    let length = cs.length;
    if (fmt === 0 || fmt === 1) length = buf.readUIntBE(p + 3, 3);
    if (length > MAX_MESSAGE) throw new ChunkError(`message of ${length} bytes exceeds the limit`);
    const remaining = inMessage ? cs.length - cs.received : length;
    const n = Math.min(this.chunkSize, remaining);
    const start = p + headerLen + extLen;
    if (buf.length - start < n) return this.want(start - pos + n);

    // The whole chunk is here: apply the header.
    if (!inMessage) {
      const value = hasExtended ? extValue : field;
      if (fmt === 0) {
        cs.timestamp = value;
        cs.delta = 0;
        cs.streamId = buf.readUInt32LE(p + 7);
      } else if (fmt <= 2) {
        cs.delta = value;
        cs.timestamp += value;
      } else {
        cs.timestamp += cs.delta; // fmt 3 starting a message: same delta as the last one
      }
      if (fmt <= 1) {
        cs.length = length;
        cs.type = buf[p + 6] as number;
      }
      cs.extended = hasExtended;
      cs.extendedValue = extValue;
      cs.parts = [];
      cs.received = 0;
    }
    const end = start + n;
    if (cs.received === 0 && n === cs.length) {
      this.deliver(csid, cs, n === 0 ? EMPTY : buf.subarray(start, end));
    } else {
      cs.parts.push(buf.subarray(start, end));
      cs.received += n;
      if (cs.received === cs.length) {
        const payload = Buffer.concat(cs.parts, cs.length);
        cs.parts = [];
        cs.received = 0;
        this.deliver(csid, cs, payload);
      }
    }
    this.needed = 1;
    return end;
  }

  private want(bytes: number): number {
    this.needed = bytes;
    return -1;
  }

  private deliver(csid: number, cs: ChunkStream, payload: Buffer): void {
    if (cs.type === MSG_SET_CHUNK_SIZE && payload.length >= 4) {
      const size = payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1) throw new ChunkError('chunk size 0');
      this.chunkSize = size;
    } else if (cs.type === MSG_ABORT && payload.length >= 4) {
      const target = this.streams.get(payload.readUInt32BE(0));
      if (target) {
        target.parts = [];
        target.received = 0;
      }
    }
    this.onMessage({ csid, type: cs.type, streamId: cs.streamId, timestamp: cs.timestamp, payload });
  }
}
