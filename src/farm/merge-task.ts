// piscina task (src/core/cpu-pool.ts) of `ivtfarm merge`: parses some shards' time series and
// merges them into one partial series.
import type { SecondSample } from '../metrics/aggregator.js';
import { mergeSeconds, readSeries } from './merge-series.js';

export interface MergeSeriesTask {
  /** Shard run directories, each with a timeseries.jsonl (missing: no seconds). */
  dirs: string[];
}

export default async function mergeSeriesTask({ dirs }: MergeSeriesTask): Promise<SecondSample[]> {
  const series: SecondSample[][] = [];
  for (const dir of dirs) series.push(await readSeries(dir));
  return mergeSeconds(series);
}
