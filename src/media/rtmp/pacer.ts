// One scheduler per worker: a single timer ticks every `windowMs` and lets every active stream send
// what is due. Streams pace against the wall clock since they started (not by summing sleeps), so a
// late tick is caught up at the next one instead of accumulating drift.
import { performance } from 'node:perf_hooks';

export interface PacedStream {
  /** Sends everything due at `now` (ms, performance.now() clock) plus the window. Must not throw. */
  serve(now: number): void;
}

export interface SchedulerOptions {
  /** Send window and tick period in ms (default 200). Larger: fewer, bigger writes; more burst. */
  windowMs?: number;
  /**
   * After each tick: how late it fired (ms past the previous tick + window: event-loop or CPU
   * starvation), how long serving every stream took (ms), and how many streams it served.
   */
  onTick?: (lateMs: number, durationMs: number, streams: number) => void;
}

export const DEFAULT_WINDOW_MS = 200;

export class PublishScheduler {
  readonly windowMs: number;
  private readonly streams = new Set<PacedStream>();
  private timer: NodeJS.Timeout | null = null;
  /** Ticks run so far and how late the last one fired, for diagnostics. */
  ticks = 0;
  lastTickLateMs = 0;
  private expected = 0;
  private readonly onTick: SchedulerOptions['onTick'];

  constructor(options: SchedulerOptions = {}) {
    const w = options.windowMs ?? DEFAULT_WINDOW_MS;
    if (!(w >= 10 && w <= 5000)) throw new RangeError(`send window ${w} ms outside 10–5000`);
    this.windowMs = w;
    this.onTick = options.onTick;
  }

  get size(): number {
    return this.streams.size;
  }

  now(): number {
    return performance.now();
  }

  add(stream: PacedStream): void {
    this.streams.add(stream);
    if (!this.timer) {
      this.expected = this.now() + this.windowMs;
      this.timer = setInterval(() => this.tick(), this.windowMs);
      // Sockets keep the process alive while streams run; the timer alone must not.
      this.timer.unref();
    }
  }

  remove(stream: PacedStream): void {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Stops the timer and forgets every stream (they are not told: stop them first). */
  close(): void {
    this.streams.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = this.now();
    this.ticks++;
    this.lastTickLateMs = Math.max(0, now - this.expected);
    this.expected = now + this.windowMs;
    for (const s of this.streams) s.serve(now);
    this.onTick?.(this.lastTickLateMs, this.now() - now, this.streams.size);
  }
}
