// The per-second series of several shards as one: the part of `ivtfarm merge` that reads every
// shard's timeseries.jsonl, run as pool tasks (merge-task.ts).
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fromJsonLine, type SecondSample } from '../metrics/aggregator.js';
import { DEFAULT_CATALOGUE } from '../metrics/catalogue.js';
import type { HistogramSummary } from '../metrics/summary.js';
import { gaugeCombine } from '../metrics/totals.js';

/**
 * Per-second samples of several shards combined: counters add up, gauges add up (or take the
 * maximum, as the catalogue says for each); a
 * histogram's count, min, max and mean combine exactly, its percentiles only as the worst shard's
 * (the per-second files keep summaries, not buckets). The whole-run figures and thresholds come
 * from the exact totals instead.
 */
export function mergeSeconds(series: readonly SecondSample[][]): SecondSample[] {
  const byT = new Map<number, SecondSample>();
  for (const samples of series) {
    for (const s of samples) {
      const into = byT.get(s.t);
      if (!into) {
        byT.set(s.t, structuredClone(s));
        continue;
      }
      for (const [k, v] of Object.entries(s.counters)) into.counters[k] = (into.counters[k] ?? 0) + v;
      for (const [k, v] of Object.entries(s.gauges)) {
        const prev = into.gauges[k];
        into.gauges[k] =
          prev === undefined
            ? v
            : gaugeCombine(k, DEFAULT_CATALOGUE) === 'max'
              ? Math.max(prev, v)
              : prev + v;
      }
      for (const [k, h] of Object.entries(s.histograms)) {
        const a = into.histograms[k];
        into.histograms[k] = a ? combine(a, h) : { ...h };
      }
    }
  }
  return [...byT.values()].sort((a, b) => a.t - b.t);
}

function combine(a: HistogramSummary, b: HistogramSummary): HistogramSummary {
  const count = a.count + b.count;
  return {
    count,
    min: Math.min(a.min, b.min),
    mean: count > 0 ? (a.mean * a.count + b.mean * b.count) / count : 0,
    p50: Math.max(a.p50, b.p50),
    p90: Math.max(a.p90, b.p90),
    p95: Math.max(a.p95, b.p95),
    p99: Math.max(a.p99, b.p99),
    max: Math.max(a.max, b.max),
  };
}

/**
 * A shard's time series, streamed (a long shard's file can be larger than one string may be); a
 * torn or garbled line (a killed shard) is skipped.
 */
export async function readSeries(dir: string): Promise<SecondSample[]> {
  const path = join(dir, 'timeseries.jsonl');
  if (!existsSync(path)) return [];
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const out: SecondSample[] = [];
  for await (const line of lines) {
    if (!line.trim()) continue;
    try {
      out.push(fromJsonLine(line));
    } catch {
      // a torn last line of a killed shard
    }
  }
  return out;
}
