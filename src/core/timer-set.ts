// Timers of one owner (a platform's order plan) that all end together: each fires once unless the
// set was cleared first, and a cleared set starts none.

export class TimerSet {
  private readonly timers = new Set<NodeJS.Timeout>();
  private cleared = false;

  /** Runs `fn` after `ms`, unless `clear()` comes first. */
  later(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.cleared) fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  clear(): void {
    this.cleared = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
