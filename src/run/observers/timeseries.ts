import type { RunOutput } from '../../farm/run-output.js';
import { toJsonLine } from '../../metrics/aggregator.js';
import { bucketsLine } from '../../metrics/second-buckets.js';
import type { RunObserver, SecondTick } from '../observer.js';

/**
 * `timeseries.jsonl`: one JSON line per closed second, appended as the run goes; beside it
 * `histograms.jsonl` with the second's histogram buckets (what makes a merge's percentiles exact).
 */
export class TimeseriesWriter implements RunObserver {
  constructor(private readonly output: RunOutput) {}

  second({ raw, sample }: SecondTick): undefined {
    this.output.appendSecond(toJsonLine(sample), bucketsLine(sample.t, raw.histograms));
    return undefined;
  }
}
