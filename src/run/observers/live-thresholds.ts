import { LiveThresholds, type Threshold, type ThresholdResult } from '../../metrics/thresholds.js';
import type { RunObserver, SecondTick } from '../observer.js';
import type { StopRequest } from '../stop.js';

/** Thresholds judged each second; one with `abort_on_fail` that keeps failing stops the run. */
export class LiveThresholdWatch implements RunObserver {
  private readonly live: LiveThresholds;

  constructor(thresholds: readonly Threshold[]) {
    this.live = new LiveThresholds(thresholds);
  }

  second({ raw, totals }: SecondTick): StopRequest | undefined {
    this.live.observe(raw, totals);
    const a = this.live.aborted;
    return a ? { reason: 'aborted', detail: `threshold ${a.metric} ${a.expression} failed` } : undefined;
  }

  get aborted(): ThresholdResult | null {
    return this.live.aborted;
  }
}
