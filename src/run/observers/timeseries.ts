import type { RunOutput } from '../../farm/run-output.js';
import { toJsonLine } from '../../metrics/aggregator.js';
import type { RunObserver, SecondTick } from '../observer.js';

/** `timeseries.jsonl`: one JSON line per closed second, appended as the run goes. */
export class TimeseriesWriter implements RunObserver {
  constructor(private readonly output: RunOutput) {}

  second({ sample }: SecondTick): undefined {
    this.output.appendSecond(toJsonLine(sample));
    return undefined;
  }
}
