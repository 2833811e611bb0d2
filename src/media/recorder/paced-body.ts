// A request body that releases a buffer's bytes evenly over a given time, as the vendor's device
// paces a segment upload (contract item 5.3) instead of sending it at line rate. Timing comes
// from the worker's shared Scheduler: no Node timer per upload.
import { Readable } from 'node:stream';
import type { Scheduler, Timer, TimerTarget } from '../../core/scheduler.js';

export interface PacedBodyOptions {
  /** Spread the bytes over this many ms; 0 sends everything at once. */
  durationMs: number;
  scheduler: Scheduler;
  /** Time between releases, ms (default 200: five writes a second per upload, each of the bytes then due). */
  stepMs?: number;
}

export class PacedBody extends Readable implements TimerTarget {
  readonly #bytes: Uint8Array;
  readonly #durationMs: number;
  readonly #scheduler: Scheduler;
  readonly #step: number;
  readonly #timer: Timer;
  #sent = 0;
  #startedAt = -1;
  /** Elapsed ms at which the next release may happen. */
  #nextAt = 0;
  /** Set while the consumer wants data and we wait for the clock. */
  #waiting = false;

  constructor(bytes: Uint8Array, options: PacedBodyOptions) {
    super({ highWaterMark: 0 });
    this.#bytes = bytes;
    this.#durationMs = Math.max(0, options.durationMs);
    this.#scheduler = options.scheduler;
    this.#step = Math.max(1, options.stepMs ?? 200);
    this.#timer = options.scheduler.timer(this);
  }

  /** Bytes handed to the consumer so far. */
  get sent(): number {
    return this.#sent;
  }

  override _read(): void {
    if (this.#startedAt < 0) {
      this.#startedAt = this.#scheduler.now();
      this.#nextAt = Math.min(this.#step, this.#durationMs);
    }
    this.#release();
  }

  onTimer(): void {
    if (this.#waiting) this.#release();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#scheduler.cancel(this.#timer);
    callback(error);
  }

  #release(): void {
    const total = this.#bytes.length;
    if (this.#sent >= total) {
      this.push(null);
      return;
    }
    const now = this.#scheduler.now();
    const elapsed = now - this.#startedAt;
    // One release per step at most: a consumer asking again right away gets nothing new, it waits.
    if (this.#durationMs > 0 && elapsed < this.#nextAt) {
      this.#waiting = true;
      this.#scheduler.schedule(this.#timer, Math.max(1, this.#nextAt - elapsed));
      return;
    }
    const due =
      this.#durationMs === 0 ? total : Math.min(total, Math.floor((total * elapsed) / this.#durationMs));
    // Never sleep past the end: the last bytes go out on time.
    this.#nextAt = Math.min(elapsed + this.#step, this.#durationMs);
    this.#waiting = false;
    if (due > this.#sent) {
      const chunk = this.#bytes.subarray(this.#sent, due);
      this.#sent = due;
      this.push(chunk);
      if (due >= total) this.push(null);
      return;
    }
    this.#release();
  }
}
