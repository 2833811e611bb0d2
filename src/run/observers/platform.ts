import { targetAt } from '../../scenario/stages.js';
import type { Stage } from '../../scenario/types.js';
import type { RunObserver } from '../observer.js';

/** Who places the platform's orders: the embedded platform (PlatformDriver) or its user API (ApiOrders). */
export interface OrderDriver {
  start(): void;
  setPublishTarget(n: number): void;
  stop(): void | Promise<void>;
}

/**
 * The platform's orders (`platform:`): timed events from the load's start; in streams
 * mode of the limit finder, the publish orders climb the staircase second by second.
 */
export class PlatformOrders implements RunObserver {
  private startMs: number | null = null;

  constructor(
    readonly driver: OrderDriver,
    private readonly streamStairs: Stage[] | null,
  ) {
    if (streamStairs) driver.setPublishTarget(0);
  }

  start(startMs: number): void {
    this.startMs = startMs;
    this.driver.start();
  }

  second(): undefined {
    if (this.streamStairs && this.startMs !== null)
      this.driver.setPublishTarget(Math.floor(targetAt(this.streamStairs, Date.now() - this.startMs)));
    return undefined;
  }

  async close(): Promise<void> {
    await this.driver.stop();
  }
}
