// One buffer that every publisher of a thread encodes its batch into, reused as long as the kernel
// takes each batch at once. A fresh buffer per batch (thousands a second) is external memory to
// V8, and external memory growing by tens of MB a second makes V8 run a full mark-compact several
// times a second: cheap for a bare publisher, but in a farm worker every one of them marks the
// whole heap of devices and metrics (measured: ~18 % of the worker's CPU at 3,000 streams, and at
// 5,000 streams per worker the worker no longer kept up). serve() is synchronous, so one buffer
// per thread (this module's instance) is never used by two batches at once.

const STEP = 64 * 1024;

export class SendScratch {
  private buffer = Buffer.allocUnsafeSlow(STEP);

  /** A buffer of at least `bytes` to encode one batch into, valid until `written`. */
  take(bytes: number): Buffer {
    if (this.buffer.length < bytes) this.buffer = Buffer.allocUnsafeSlow(Math.ceil(bytes / STEP) * STEP);
    return this.buffer;
  }

  /**
   * After the batch went to `socket.write()`: when the socket still holds bytes (the kernel did not
   * take them all at once, or earlier writes are queued), it references the buffer until they are
   * sent, so the next batch gets a new one.
   */
  written(socketStillHolds: boolean): void {
    if (socketStillHolds) this.buffer = Buffer.allocUnsafeSlow(this.buffer.length);
  }
}

/** The scratch of this thread (a worker thread has its own module instance). */
export const sendScratch = new SendScratch();
