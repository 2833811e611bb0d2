// piscina task (src/core/cpu-pool.ts) of `ivtfarm merge`: parses some shards' time series and
// histogram buckets and merges them into one partial series.
import { mergeParts, readPart, type SeriesPart } from './merge-series.js';

export interface MergeSeriesTask {
  /** Shard run directories, each with a timeseries.jsonl (missing: no seconds). */
  dirs: string[];
}

export default async function mergeSeriesTask({ dirs }: MergeSeriesTask): Promise<SeriesPart> {
  const parts: SeriesPart[] = [];
  for (const dir of dirs) parts.push(await readPart(dir));
  return mergeParts(parts);
}
