// Totals of a time window of the load (a named stage, `30s..90s`, a capacity step's hold): the
// same RunTotals as the whole run, fed only the closed seconds that lie wholly inside the window
// and before the load began to stop. Thresholds with `during` are judged on these.

import type { Aggregator, RawSecond } from './aggregator.js';
import { RunTotals, type SerializedTotals } from './totals.js';

export interface TimeWindow {
  /** As written: a stage name or a range such as `30s..90s`. */
  label: string;
  /** Since the load started; `toMs` may be Infinity (until the load begins to stop). */
  fromMs: number;
  toMs: number;
}

/** Whether the whole second starting at `loadMs` (see RawSecond) lies inside the window. */
export function secondInWindow(w: Pick<TimeWindow, 'fromMs' | 'toMs'>, loadMs: number | null): boolean {
  return loadMs !== null && loadMs >= w.fromMs && loadMs + 1000 <= w.toMs;
}

export class WindowTotals {
  private readonly windows = new Map<string, { window: TimeWindow; totals: RunTotals }>();

  constructor(windows: Iterable<TimeWindow>) {
    for (const w of windows) this.windows.set(w.label, { window: w, totals: new RunTotals() });
  }

  /** Subscribes to an aggregator's closed seconds. */
  attach(aggregator: Aggregator): this {
    aggregator.onSecond((raw) => this.observe(raw));
    return this;
  }

  observe(raw: RawSecond): void {
    for (const { window, totals } of this.windows.values()) {
      if (secondInWindow(window, raw.loadMs)) totals.addSecond(raw);
    }
  }

  /** Totals by window label (a window no second fell in has empty totals). */
  get totals(): ReadonlyMap<string, RunTotals> {
    return new Map([...this.windows].map(([label, w]) => [label, w.totals]));
  }

  /** For summary.json, so that `ivtfarm merge` can judge scoped thresholds across shards. */
  serialize(): Record<string, SerializedTotals> {
    return Object.fromEntries([...this.windows].map(([label, w]) => [label, w.totals.serialize()]));
  }
}
