/**
 * One batched timer service per thread: a hashed timing wheel driven by a single interval, so a
 * worker with 10k devices runs their keepalive ticks, back-off waits, reboot/upgrade/alarm
 * timers on one Node timer instead of tens of thousands. Schedule and cancel are O(1) (a
 * doubly linked list per slot); a timer fires at most one resolution step late.
 */

/** What a timer calls when it fires: an object method, so a fleet shares one function. */
export interface TimerTarget {
  onTimer(kind: number): void;
}

/** A reusable timer handle: owned by one target, re-armed as often as needed. */
export class Timer {
  /** Wheel slot while scheduled, -1 when idle. */
  slot = -1;
  /** Absolute tick at which it fires. */
  due = 0;
  next: Timer | null = null;
  prev: Timer | null = null;

  constructor(
    readonly target: TimerTarget,
    readonly kind: number,
  ) {}

  get pending(): boolean {
    return this.slot >= 0;
  }
}

export interface SchedulerOptions {
  /** Tick length in ms: timers fire on tick boundaries (10–50 ms is plenty for devices). */
  resolutionMs?: number;
  /** Slots of the wheel, rounded up to a power of two; longer delays wait extra rounds. */
  slots?: number;
  /** Monotonic clock in ms (tests can pass their own). */
  now?: () => number;
  /** Let the process exit while timers are pending (off by default: a back-off wait is real work). */
  unref?: boolean;
}

/** Wraps a plain function for one-off timers (not for hot paths: it allocates). */
class FunctionTarget implements TimerTarget {
  constructor(private readonly fn: () => void) {}
  onTimer(): void {
    this.fn();
  }
}

export class Scheduler {
  private readonly wheel: Array<Timer | null>;
  private readonly mask: number;
  private readonly resolutionMs: number;
  private readonly clock: () => number;
  private readonly origin: number;
  private readonly unref: boolean;
  /** Last tick processed. */
  private tick: number;
  private count = 0;
  private interval: NodeJS.Timeout | null = null;
  private readonly onInterval = () => this.advance();

  constructor(options: SchedulerOptions = {}) {
    this.resolutionMs = options.resolutionMs ?? 20;
    let slots = 1;
    while (slots < (options.slots ?? 1024)) slots <<= 1;
    this.wheel = new Array<Timer | null>(slots).fill(null);
    this.mask = slots - 1;
    this.clock = options.now ?? (() => performance.now());
    this.unref = options.unref ?? false;
    this.origin = this.clock();
    this.tick = 0;
  }

  /** The scheduler's monotonic clock, ms. */
  now(): number {
    return this.clock();
  }

  /** Timers currently scheduled. */
  get size(): number {
    return this.count;
  }

  /** A new idle timer for `target`; `kind` tells the target which of its timers fired. */
  timer(target: TimerTarget, kind = 0): Timer {
    return new Timer(target, kind);
  }

  /** (Re-)arms `timer` to fire after `delayMs`; an armed timer is moved, not duplicated. */
  schedule(timer: Timer, delayMs: number): void {
    if (timer.slot >= 0) {
      this.unlink(timer);
      this.count--;
    }
    if (this.count === 0) this.startInterval();
    let due = Math.ceil((this.clock() + Math.max(0, delayMs) - this.origin) / this.resolutionMs);
    if (due <= this.tick) due = this.tick + 1;
    timer.due = due;
    const slot = due & this.mask;
    const head = this.wheel[slot] ?? null;
    timer.slot = slot;
    timer.prev = null;
    timer.next = head;
    if (head) head.prev = timer;
    this.wheel[slot] = timer;
    this.count++;
  }

  cancel(timer: Timer): void {
    if (timer.slot < 0) return;
    this.unlink(timer);
    if (--this.count === 0) this.stopInterval();
  }

  /** One-off convenience timer with a closure; returns it so it can be cancelled. */
  after(delayMs: number, fn: () => void): Timer {
    const timer = new Timer(new FunctionTarget(fn), 0);
    this.schedule(timer, delayMs);
    return timer;
  }

  /** Runs every tick that has come due (called by the interval; tests may call it directly). */
  advance(): void {
    const target = Math.floor((this.clock() - this.origin) / this.resolutionMs);
    while (this.tick < target) {
      const t = ++this.tick;
      const slot = t & this.mask;
      let timer = this.wheel[slot] ?? null;
      while (timer) {
        const next = timer.next;
        if (timer.due <= t) {
          this.unlink(timer);
          this.count--;
          try {
            timer.target.onTimer(timer.kind);
          } catch (error) {
            // One target's bug must not stop every other device's timers; surface it anyway.
            queueMicrotask(() => {
              throw error;
            });
          }
        }
        // A callback may have cancelled or moved `next`: then walk this slot again from its head
        // (what already fired is gone, what was re-armed is due later, so nothing fires twice).
        timer = next === null ? null : next.slot === slot ? next : (this.wheel[slot] ?? null);
      }
    }
    if (this.count === 0) this.stopInterval();
  }

  private unlink(timer: Timer): void {
    if (timer.prev) timer.prev.next = timer.next;
    else this.wheel[timer.slot] = timer.next;
    if (timer.next) timer.next.prev = timer.prev;
    timer.next = null;
    timer.prev = null;
    timer.slot = -1;
  }

  private startInterval(): void {
    if (this.interval !== null) return;
    // Skip the ticks that passed while idle: nothing was scheduled in them.
    this.tick = Math.max(this.tick, Math.floor((this.clock() - this.origin) / this.resolutionMs));
    this.interval = setInterval(this.onInterval, this.resolutionMs);
    if (this.unref) this.interval.unref();
  }

  private stopInterval(): void {
    if (this.interval === null) return;
    clearInterval(this.interval);
    this.interval = null;
  }
}
