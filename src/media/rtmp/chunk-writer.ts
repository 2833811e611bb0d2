// RTMP chunk writer: turns messages into chunks. Headers are computed into a caller-provided buffer;
// payloads are either referenced (encodeParts: zero copy, for cork/writev batching) or copied into one
// contiguous buffer (encodeTo: one socket write per batch).
import { CSID_PROTOCOL, MSG_SET_CHUNK_SIZE } from './constants.js';

const EXTENDED = 0xffffff;

/** Upper bound of the header bytes one message of `length` bytes needs at `chunkSize`. */
export function maxHeaderBytes(length: number, chunkSize: number): number {
  const chunks = Math.max(1, Math.ceil(length / chunkSize));
  // basic header ≤ 3 (we use 1), message header ≤ 11, extended timestamp 4; continuations 1 + 4.
  return 16 + (chunks - 1) * 5;
}

export class ChunkWriter {
  /** Outgoing chunk size; change it only together with sending Set Chunk Size (see setChunkSize). */
  chunkSize = 128;
  // Last header sent per chunk stream id (< 64), for delta (fmt 1) headers.
  private readonly lastTs: number[] = [];
  private readonly lastStream: number[] = [];
  private readonly used: boolean[] = [];
  // Extended timestamp of the message being encoded (-1: none); a field, to allocate nothing per message.
  private extended = -1;

  /** Returns the Set Chunk Size message (to send now) and applies the new size to what follows. */
  setChunkSize(size: number): Buffer {
    const body = Buffer.allocUnsafe(4);
    body.writeUInt32BE(size & 0x7fffffff, 0);
    const msg = this.message(CSID_PROTOCOL, MSG_SET_CHUNK_SIZE, 0, 0, body);
    this.chunkSize = size;
    return msg;
  }

  /** One message as a standalone buffer (commands and control messages: not on the hot path). */
  message(csid: number, type: number, streamId: number, timestamp: number, payload: Buffer): Buffer {
    const out = Buffer.allocUnsafe(payload.length + maxHeaderBytes(payload.length, this.chunkSize));
    const end = this.encodeTo(out, 0, csid, type, streamId, timestamp, payload);
    return out.subarray(0, end);
  }

  /** Writes the chunks of one message (headers and a copy of the payload) into `dst` at `off`. */
  encodeTo(
    dst: Buffer,
    off: number,
    csid: number,
    type: number,
    streamId: number,
    timestamp: number,
    payload: Buffer,
  ): number {
    let pos = this.header(dst, off, csid, type, streamId, timestamp, payload.length);
    const extended = this.extended;
    const size = this.chunkSize;
    for (let start = 0; start < payload.length; start += size) {
      if (start > 0) pos = continuation(dst, pos, csid, extended);
      const n = Math.min(size, payload.length - start);
      payload.copy(dst, pos, start, start + n);
      pos += n;
    }
    return pos;
  }

  /**
   * Writes the chunk headers of one message into `headers` at `off` and pushes alternating header and
   * payload views onto `parts` (payload bytes are not copied). Returns the new offset into `headers`.
   */
  encodeParts(
    headers: Buffer,
    off: number,
    parts: Buffer[],
    csid: number,
    type: number,
    streamId: number,
    timestamp: number,
    payload: Buffer,
  ): number {
    let pos = this.header(headers, off, csid, type, streamId, timestamp, payload.length);
    const extended = this.extended;
    parts.push(headers.subarray(off, pos));
    const size = this.chunkSize;
    for (let start = 0; start < payload.length; start += size) {
      if (start > 0) {
        const h = pos;
        pos = continuation(headers, pos, csid, extended);
        parts.push(headers.subarray(h, pos));
      }
      parts.push(payload.subarray(start, Math.min(start + size, payload.length)));
    }
    return pos;
  }

  // First chunk header: fmt 0 on a new chunk stream, a stream-id change or a timestamp going back;
  // otherwise fmt 1 with the delta (7 bytes shorter, and what servers expect in steady state).
  private header(
    dst: Buffer,
    off: number,
    csid: number,
    type: number,
    streamId: number,
    timestamp: number,
    length: number,
  ): number {
    const delta = timestamp - (this.lastTs[csid] ?? 0);
    const full = !this.used[csid] || this.lastStream[csid] !== streamId || delta < 0;
    const field = full ? timestamp : delta;
    const extended = field >= EXTENDED ? field : -1;
    let pos = off;
    dst[pos++] = (full ? 0x00 : 0x40) | csid;
    dst.writeUIntBE(extended >= 0 ? EXTENDED : field, pos, 3);
    pos += 3;
    dst.writeUIntBE(length, pos, 3);
    pos += 3;
    dst[pos++] = type;
    if (full) {
      dst.writeUInt32LE(streamId, pos); // the one little-endian field of RTMP
      pos += 4;
    }
    if (extended >= 0) {
      dst.writeUInt32BE(extended >>> 0, pos);
      pos += 4;
    }
    this.used[csid] = true;
    this.lastTs[csid] = timestamp;
    this.lastStream[csid] = streamId;
    this.extended = extended;
    return pos;
  }
}

// fmt 3 continuation; repeats the extended timestamp as Flash, FFmpeg and nginx-rtmp expect.
function continuation(dst: Buffer, pos: number, csid: number, extended: number): number {
  dst[pos++] = 0xc0 | csid;
  if (extended >= 0) {
    dst.writeUInt32BE(extended >>> 0, pos);
    pos += 4;
  }
  return pos;
}
