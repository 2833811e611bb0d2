const PACKET = 188;
const SYNC = 0x47;
const NULL_PID = 0x1fff;

/**
 * Checks an MPEG-TS byte stream as it arrives: a sync byte 0x47 every 188 bytes and continuous
 * continuity counters per PID. Holds at most one partial packet and one counter per PID.
 */
export class TsChecker {
  bytes = 0;
  packets = 0;
  syncErrors = 0;
  continuityErrors = 0;
  private readonly partial = Buffer.alloc(PACKET);
  private partialLength = 0;
  private readonly counters = new Map<number, number>();
  /** First problem seen, for a readable violation detail. */
  firstError = '';

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let offset = 0;
    if (this.partialLength > 0) {
      const take = Math.min(PACKET - this.partialLength, chunk.length);
      chunk.copy(this.partial, this.partialLength, 0, take);
      this.partialLength += take;
      offset = take;
      if (this.partialLength < PACKET) return;
      this.packet(this.partial, 0);
      this.partialLength = 0;
    }
    while (offset + PACKET <= chunk.length) {
      this.packet(chunk, offset);
      offset += PACKET;
    }
    if (offset < chunk.length) {
      chunk.copy(this.partial, 0, offset);
      this.partialLength = chunk.length - offset;
    }
  }

  /** Call at the end of the stream; true when the whole stream was valid. */
  finish(): boolean {
    if (this.partialLength > 0)
      this.fail(`trailing ${this.partialLength} bytes are not a whole 188-byte packet`);
    if (this.bytes === 0) this.fail('empty segment');
    return this.firstError === '';
  }

  private packet(buf: Buffer, at: number): void {
    const index = this.packets++;
    if (buf[at] !== SYNC) {
      this.syncErrors++;
      this.fail(`no sync byte 0x47 at packet ${index} (byte ${index * PACKET})`);
      return;
    }
    const pid = ((buf[at + 1]! & 0x1f) << 8) | buf[at + 2]!;
    if (pid === NULL_PID) return;
    const flags = buf[at + 3]!;
    const hasPayload = (flags & 0x10) !== 0;
    const cc = flags & 0x0f;
    const hasAdaptation = (flags & 0x20) !== 0;
    // The discontinuity indicator allows a counter jump.
    const discontinuity = hasAdaptation && buf[at + 4]! > 0 && (buf[at + 5]! & 0x80) !== 0;
    const previous = this.counters.get(pid);
    if (previous !== undefined && hasPayload && !discontinuity) {
      // A packet may be sent twice (same counter); anything else must be the next value.
      if (cc !== ((previous + 1) & 0x0f) && cc !== previous) {
        this.continuityErrors++;
        this.fail(`continuity counter of PID ${pid} jumps ${previous} → ${cc} at packet ${index}`);
      }
    }
    if (hasPayload || previous === undefined) this.counters.set(pid, cc);
  }

  private fail(message: string): void {
    if (this.firstError === '') this.firstError = message;
  }
}
