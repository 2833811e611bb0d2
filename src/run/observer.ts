// The run's outputs behind one interface, as k6 puts its outputs behind Output{Start,
// AddMetricSamples, Stop}: the aggregator hands each closed second to every observer in order;
// an observer may ask the run to stop; each is closed once at the end. Adding an output is
// adding an observer to the list, without touching the run itself.

import type { Aggregator, RawSecond, SecondSample } from '../metrics/aggregator.js';
import type { RunTotals } from '../metrics/totals.js';
import type { StopRequest, StopSignal } from './stop.js';

export interface SecondTick {
  raw: RawSecond;
  sample: SecondSample;
  totals: RunTotals;
}

export interface RunObserver {
  /** The load began (epoch ms): stairs, clocks and timed events count from here. */
  start?(startMs: number): void;
  /** One closed second; the answer may ask the run to stop. */
  second(tick: SecondTick): StopRequest | undefined;
  close?(): void | Promise<void>;
}

const CLOSE_SECONDS_MS = 250;

/** Feeds closed seconds to the observers; an observer that throws stops the run (it rethrows at the end). */
export class ObserverPipeline {
  private readonly timer: NodeJS.Timeout;
  private drained = false;

  constructor(
    private readonly aggregator: Aggregator,
    private readonly observers: readonly RunObserver[],
    private readonly stop: StopSignal,
  ) {
    aggregator.onSecond((raw, sample) => this.second({ raw, sample, totals: aggregator.totals }));
    this.timer = setInterval(() => aggregator.closeReady(), CLOSE_SECONDS_MS);
  }

  start(startMs: number): void {
    for (const o of this.observers) o.start?.(startMs);
  }

  /** Closes every remaining second (after the sources stopped), so observers see the last deltas. */
  drain(): void {
    clearInterval(this.timer);
    if (this.drained) return;
    this.drained = true;
    this.aggregator.closeAll();
  }

  async close(): Promise<void> {
    this.drain();
    for (const o of [...this.observers].reverse()) await o.close?.();
  }

  private second(tick: SecondTick): void {
    for (const o of this.observers) {
      try {
        const request = o.second(tick);
        if (request) this.stop.request(request.reason, request.detail);
      } catch (error) {
        this.stop.fail(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}
