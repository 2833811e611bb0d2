// The bytes a stream parser has received but not yet consumed. Socket data arrives in pieces of
// any size; joining them on every piece would copy a big message once per TCP segment, so the
// parsers wait until `length` reaches what they need and join once.

export class PendingBytes {
  private parts: Buffer[] = [];
  length = 0;

  add(data: Buffer): void {
    this.parts.push(data);
    this.length += data.length;
  }

  /** Everything received so far as one buffer (no copy when it came in one piece); empties the queue. */
  take(): Buffer {
    const buf = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.length);
    this.clear();
    return buf;
  }

  /** Keeps `buf` from `pos` on for the next call (the start of a message not complete yet). */
  keepFrom(buf: Buffer, pos: number): void {
    if (pos < buf.length) this.add(buf.subarray(pos));
  }

  clear(): void {
    this.parts = [];
    this.length = 0;
  }
}
