// The per-second series of several shards as one: the part of `ivtfarm merge` that reads every
// shard's timeseries.jsonl and histograms.jsonl, run as pool tasks (merge-task.ts).
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fromJsonLine, type SecondSample } from '../metrics/aggregator.js';
import { DEFAULT_CATALOGUE, histogramScale } from '../metrics/catalogue.js';
import { HdrCounts } from '../metrics/hdr.js';
import { parseSeriesKey } from '../metrics/labels.js';
import { type BucketsLine, decodeSecondBuckets, encodeSecondBuckets } from '../metrics/second-buckets.js';
import { type HistogramSummary, summarize } from '../metrics/summary.js';
import { gaugeCombine } from '../metrics/totals.js';

/** One or more shards' series: plain data, so it crosses from a pool thread by structured clone. */
export interface SeriesPart {
  seconds: SecondSample[];
  /** Epoch second → histogram series key → encoded buckets (second-buckets.ts) of that second. */
  buckets: Record<number, Record<string, string>>;
  /**
   * Shard directories without `histograms.jsonl` (runs made before it existed): where their
   * seconds meet another shard's, percentiles are the worst shard's, not exact.
   */
  withoutBuckets: string[];
  /** Histogram-seconds merged from buckets (exact) and from summaries only (worst shard's percentiles). */
  exactSeconds: number;
  approximateSeconds: number;
}

/**
 * Series combined second by second: counters add up, gauges add up (or take the maximum, as the
 * catalogue says for each); a histogram's buckets add up when every shard kept them, so its
 * percentiles are exactly those of all the shards' samples together. Without buckets, count,
 * min, max and mean still combine exactly, percentiles only as the worst shard's.
 */
export function mergeParts(parts: readonly SeriesPart[]): SeriesPart {
  const merged: SeriesPart = {
    seconds: [],
    buckets: {},
    withoutBuckets: parts.flatMap((p) => p.withoutBuckets),
    exactSeconds: parts.reduce((n, p) => n + p.exactSeconds, 0),
    approximateSeconds: parts.reduce((n, p) => n + p.approximateSeconds, 0),
  };
  const byT = new Map<number, Array<{ sample: SecondSample; buckets: Record<string, string> | undefined }>>();
  for (const part of parts) {
    for (const sample of part.seconds) {
      const list = byT.get(sample.t) ?? [];
      byT.set(sample.t, list);
      list.push({ sample, buckets: part.buckets[sample.t] });
    }
  }
  const scratch = new HdrCounts('f64');
  for (const t of [...byT.keys()].sort((a, b) => a - b)) {
    const list = byT.get(t)!;
    const into: SecondSample = { t, counters: {}, gauges: {}, histograms: {} };
    for (const { sample } of list) addScalars(into, sample);
    const keys = new Set(list.flatMap(({ sample }) => Object.keys(sample.histograms)));
    const secondBuckets: Record<string, string> = {};
    for (const key of keys) {
      // A histogram with no sample in a shard's second adds nothing (and has no buckets to add).
      const having = list.filter(({ sample }) => (sample.histograms[key]?.count ?? 0) > 0);
      const encoded = having.map(({ buckets }) => buckets?.[key]);
      if (having.length === 0) {
        into.histograms[key] = {
          ...list.find(({ sample }) => sample.histograms[key])!.sample.histograms[key]!,
        };
      } else if (having.length === 1) {
        into.histograms[key] = { ...having[0]!.sample.histograms[key]! };
        if (encoded[0] !== undefined) secondBuckets[key] = encoded[0];
      } else if (encoded.every((e): e is string => e !== undefined)) {
        scratch.reset();
        for (const e of encoded) {
          const h = decodeSecondBuckets(e);
          scratch.addSparse(h.buckets, h.count, h.sum, h.min, h.max);
        }
        into.histograms[key] = summarize(scratch, scaleOf(key));
        const again = encodeSecondBuckets({ ...statsOf(scratch), buckets: scratch.toSparse() });
        if (again !== null) secondBuckets[key] = again;
        merged.exactSeconds++;
      } else {
        into.histograms[key] = having.map(({ sample }) => sample.histograms[key]!).reduce(worstOf);
        merged.approximateSeconds++;
      }
    }
    merged.seconds.push(into);
    if (Object.keys(secondBuckets).length > 0) merged.buckets[t] = secondBuckets;
  }
  return merged;
}

function addScalars(into: SecondSample, s: SecondSample): void {
  for (const [k, v] of Object.entries(s.counters)) into.counters[k] = (into.counters[k] ?? 0) + v;
  for (const [k, v] of Object.entries(s.gauges)) {
    const prev = into.gauges[k];
    into.gauges[k] =
      prev === undefined ? v : gaugeCombine(k, DEFAULT_CATALOGUE) === 'max' ? Math.max(prev, v) : prev + v;
  }
}

function statsOf(c: HdrCounts): { count: number; sum: number; min: number; max: number } {
  return { count: c.count, sum: c.sum, min: c.min, max: c.max };
}

const scales = new Map<string, number>();
function scaleOf(key: string): number {
  let s = scales.get(key);
  if (s === undefined) {
    const def = DEFAULT_CATALOGUE.get(parseSeriesKey(key).name);
    s = def ? histogramScale(def.unit) : 1;
    scales.set(key, s);
  }
  return s;
}

/** Without buckets: exact count, min, max and mean; each percentile the worst shard's. */
function worstOf(a: HistogramSummary, b: HistogramSummary): HistogramSummary {
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

/** Each line of a JSON-lines file, streamed (a long shard's file can be larger than one string may be). */
async function* jsonLines(path: string): AsyncGenerator<string> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) if (line.trim()) yield line;
}

/** A shard's time series; a torn or garbled line (a killed shard) is skipped. */
export async function readSeries(dir: string): Promise<SecondSample[]> {
  const path = join(dir, 'timeseries.jsonl');
  if (!existsSync(path)) return [];
  const out: SecondSample[] = [];
  for await (const line of jsonLines(path)) {
    try {
      out.push(fromJsonLine(line));
    } catch {
      // a torn last line of a killed shard
    }
  }
  return out;
}

/** A shard as a part: its series and, when it kept them, its per-second buckets. */
export async function readPart(dir: string): Promise<SeriesPart> {
  const seconds = await readSeries(dir);
  const path = join(dir, 'histograms.jsonl');
  const part: SeriesPart = {
    seconds,
    buckets: {},
    withoutBuckets: [],
    exactSeconds: 0,
    approximateSeconds: 0,
  };
  if (!existsSync(path)) {
    if (seconds.some((s) => Object.keys(s.histograms).length > 0)) part.withoutBuckets.push(dir);
    return part;
  }
  for await (const line of jsonLines(path)) {
    try {
      const { t, h } = JSON.parse(line) as BucketsLine;
      if (typeof t === 'number' && typeof h === 'object' && h !== null) part.buckets[t] = h;
    } catch {
      // a torn last line: those seconds merge from their summaries
    }
  }
  return part;
}

/** `histograms.jsonl` of a merged run (so that it can be merged again, exactly). */
export function bucketsFile(part: SeriesPart): string {
  return Object.entries(part.buckets)
    .map(([t, h]) => `${JSON.stringify({ t: Number(t), h } satisfies BucketsLine)}\n`)
    .join('');
}
