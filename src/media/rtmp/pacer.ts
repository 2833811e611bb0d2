// One scheduler per worker: a single timer lets every active stream send what is due, once per
// send window. Streams pace against the wall clock since they started (not by summing sleeps), so a
// late tick is caught up at the next one instead of accumulating drift.
import { performance } from 'node:perf_hooks';

export interface PacedStream {
  /** Sends everything due at `now` (ms, performance.now() clock) plus the window. Must not throw. */
  serve(now: number): void;
}

export interface SchedulerOptions {
  /** Send window in ms (default 200): each stream is served once per window. Larger: fewer, bigger writes. */
  windowMs?: number;
  /**
   * Streams are split into this many groups served in turn, one group every windowMs / slices
   * (default 1: every stream at every tick). Each stream is still served once per window, but a
   * tick holds the event loop 1/slices as long and the target sees smoother traffic.
   */
  slices?: number;
  /**
   * After each tick: how late it fired (ms past the previous tick + period: event-loop or CPU
   * starvation), how long serving its streams took (ms), and how many streams it served.
   */
  onTick?: (lateMs: number, durationMs: number, streams: number) => void;
}

export const DEFAULT_WINDOW_MS = 200;

export class PublishScheduler {
  readonly windowMs: number;
  /** Tick period: windowMs / slices. */
  readonly periodMs: number;
  private readonly groups: Set<PacedStream>[];
  private readonly groupOf = new Map<PacedStream, Set<PacedStream>>();
  private turn = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Ticks run so far and how late the last one fired, for diagnostics. */
  ticks = 0;
  lastTickLateMs = 0;
  private expected = 0;
  private readonly onTick: SchedulerOptions['onTick'];

  constructor(options: SchedulerOptions = {}) {
    const w = options.windowMs ?? DEFAULT_WINDOW_MS;
    if (!(w >= 10 && w <= 5000)) throw new RangeError(`send window ${w} ms outside 10–5000`);
    const slices = options.slices ?? 1;
    if (!Number.isInteger(slices) || slices < 1 || w / slices < 5) {
      throw new RangeError(`slices ${slices}: an integer ≥ 1 leaving ticks of ≥ 5 ms`);
    }
    this.windowMs = w;
    this.periodMs = w / slices;
    this.groups = Array.from({ length: slices }, () => new Set<PacedStream>());
    this.onTick = options.onTick;
  }

  get size(): number {
    return this.groupOf.size;
  }

  now(): number {
    return performance.now();
  }

  add(stream: PacedStream): void {
    if (this.groupOf.has(stream)) return;
    // The smallest group keeps the slices balanced as streams come and go.
    let group = this.groups[0] as Set<PacedStream>;
    for (const g of this.groups) if (g.size < group.size) group = g;
    group.add(stream);
    this.groupOf.set(stream, group);
    if (!this.timer) {
      this.expected = this.now() + this.periodMs;
      this.timer = setInterval(() => this.tick(), this.periodMs);
      // Sockets keep the process alive while streams run; the timer alone must not.
      this.timer.unref();
    }
  }

  remove(stream: PacedStream): void {
    const group = this.groupOf.get(stream);
    if (!group) return;
    group.delete(stream);
    this.groupOf.delete(stream);
    if (this.groupOf.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Stops the timer and forgets every stream (they are not told: stop them first). */
  close(): void {
    for (const g of this.groups) g.clear();
    this.groupOf.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = this.now();
    this.ticks++;
    this.lastTickLateMs = Math.max(0, now - this.expected);
    this.expected = now + this.periodMs;
    const group = this.groups[this.turn] as Set<PacedStream>;
    this.turn = (this.turn + 1) % this.groups.length;
    for (const s of group) s.serve(now);
    this.onTick?.(this.lastTickLateMs, this.now() - now, group.size);
  }
}
