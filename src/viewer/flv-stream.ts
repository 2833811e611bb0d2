// Incremental FLV tag reader for a byte stream (HTTP-FLV body, RTMP aggregate message bodies):
// hands out each tag's type, timestamp and body as soon as it is complete. A tag that arrived in
// one read is a view of that read (no copy); a tag split across reads is joined once.

import { PendingBytes } from '../media/pending-bytes.js';

export class FlvStreamError extends Error {
  override name = 'FlvStreamError';
}

export type FlvTagHandler = (type: number, timestamp: number, body: Buffer) => void;

const TAG_HEADER = 11;
/** A tag larger than this is refused: a corrupt size must not make us buffer without limit. */
const MAX_TAG = 16 * 1024 * 1024;

export class FlvStreamReader {
  private readonly pending = new PendingBytes();
  private needed: number;
  private headerDone: boolean;

  /** `withFileHeader`: the stream starts with the 9-byte FLV header and PreviousTagSize0. */
  constructor(
    private readonly onTag: FlvTagHandler,
    withFileHeader = true,
  ) {
    this.headerDone = !withFileHeader;
    this.needed = withFileHeader ? 13 : TAG_HEADER;
  }

  /** Feeds bytes; throws FlvStreamError on a stream that is not FLV. */
  push(data: Buffer): void {
    this.pending.add(data);
    if (this.pending.length < this.needed) return;
    const buf = this.pending.take();
    let pos = 0;
    if (!this.headerDone) {
      if (buf.toString('latin1', 0, 3) !== 'FLV') throw new FlvStreamError('not an FLV stream');
      pos = buf.readUInt32BE(5) + 4;
      this.headerDone = true;
    }
    this.needed = TAG_HEADER;
    while (buf.length - pos >= TAG_HEADER) {
      const size = buf.readUIntBE(pos + 1, 3);
      if (size > MAX_TAG) throw new FlvStreamError(`FLV tag of ${size} bytes`);
      const end = pos + TAG_HEADER + size;
      if (end + 4 > buf.length) {
        this.needed = end + 4 - pos;
        break;
      }
      const ts = buf.readUIntBE(pos + 4, 3) + (buf[pos + 7] as number) * 0x1000000;
      this.onTag((buf[pos] as number) & 0x1f, ts, buf.subarray(pos + TAG_HEADER, end));
      pos = end + 4;
    }
    this.pending.keepFrom(buf, pos);
  }
}

/**
 * Walks the FLV tags of an RTMP aggregate message (type 22). Sub-tag timestamps are rebased so the
 * first one equals the message timestamp, as the RTMP spec says. PreviousTagSize may be absent
 * after the last tag.
 */
export function forEachAggregateTag(body: Buffer, messageTs: number, onTag: FlvTagHandler): void {
  let pos = 0;
  let base: number | null = null;
  while (body.length - pos >= TAG_HEADER) {
    const size = body.readUIntBE(pos + 1, 3);
    const end = pos + TAG_HEADER + size;
    if (end > body.length) throw new FlvStreamError('aggregate message truncated');
    const ts = body.readUIntBE(pos + 4, 3) + (body[pos + 7] as number) * 0x1000000;
    base ??= ts;
    onTag((body[pos] as number) & 0x1f, messageTs + (ts - base), body.subarray(pos + TAG_HEADER, end));
    pos = end + 4;
  }
}
