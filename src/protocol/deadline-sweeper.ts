/**
 * One interval timer that checks the RPC deadlines of many peers, instead of one timer per
 * request: a fleet of 10k devices sends 1k keepalives a second, and per-request timers would be
 * created and cleared at that rate. A deadline fires at most one `periodMs` late, which is
 * plenty against a 20 s timeout.
 */
export interface DeadlineOwner {
  /** Called every period while registered; returns nothing, closes itself when overdue. */
  checkDeadline(nowMs: number): void;
}

export class DeadlineSweeper {
  private readonly owners = new Set<DeadlineOwner>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly periodMs = 250) {}

  add(owner: DeadlineOwner): void {
    this.owners.add(owner);
    if (this.timer === null) {
      this.timer = setInterval(() => this.sweep(), this.periodMs);
      this.timer.unref();
    }
  }

  delete(owner: DeadlineOwner): void {
    this.owners.delete(owner);
    if (this.owners.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const owner of this.owners) owner.checkDeadline(now);
  }
}

/** The sweeper shared by every peer of a thread unless one is given. */
export const sharedSweeper = new DeadlineSweeper();
