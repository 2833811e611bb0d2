// Whole-run totals: cumulative counters, gauge last/min/max, whole-run histograms. Serializable to
// JSON (histograms in HdrHistogram's standard compressed encoding) and mergeable, so the results
// of shards run on several machines combine into one.

import { type Catalogue, DEFAULT_CATALOGUE } from './catalogue.js';
import type { HistogramDelta } from './delta.js';
import { HdrCounts } from './hdr.js';
import { decodeHdr, encodeHdr } from './hdr-codec.js';
import { parseSeriesKey } from './labels.js';

/** One closed second in mergeable form (the aggregator's RawSecond), as totals read it. */
export interface SecondData {
  t: number;
  counters: ReadonlyMap<string, number>;
  gauges: Readonly<Record<string, number>>;
  histograms: ReadonlyMap<string, HistogramDelta>;
}

export interface GaugeTotals {
  /** Value at the last second observed (the last one before the load began to stop). */
  last: number;
  /** Lowest and highest per-second value seen. */
  min: number;
  max: number;
  /** Sum of the per-second values and how many seconds: avg = sum / seconds. */
  sum: number;
  seconds: number;
}

export interface SerializedHistogram {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** HdrHistogram V2 compressed base64; values in the metric's integer units (µs for ms). */
  hdr: string;
}

export interface SerializedTotals {
  format: 'ivtfarm-metrics-totals';
  v: 1;
  /** First and last second (epoch seconds) with data. */
  from: number | null;
  to: number | null;
  counters: Record<string, number>;
  gauges: Record<string, GaugeTotals>;
  histograms: Record<string, SerializedHistogram>;
}

export function gaugeCombine(key: string, catalogue: Catalogue): 'sum' | 'max' {
  return catalogue.get(parseSeriesKey(key).name)?.combine ?? 'sum';
}

export class RunTotals {
  from: number | null = null;
  to: number | null = null;
  readonly counters = new Map<string, number>();
  readonly gauges = new Map<string, GaugeTotals>();
  readonly histograms = new Map<string, HdrCounts>();

  addCounter(key: string, n: number): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + n);
  }

  histogram(key: string): HdrCounts {
    let h = this.histograms.get(key);
    if (!h) {
      h = new HdrCounts('f64');
      this.histograms.set(key, h);
    }
    return h;
  }

  /**
   * Called once per closed second. `gauges` are that second's combined gauge values, or null for
   * a second whose gauges must not count (taken after the load began to stop).
   */
  observeSecond(t: number, gauges: Readonly<Record<string, number>> | null): void {
    if (this.from === null || t < this.from) this.from = t;
    if (this.to === null || t > this.to) this.to = t;
    if (!gauges) return;
    for (const key in gauges) {
      const v = gauges[key]!;
      const g = this.gauges.get(key);
      if (!g) this.gauges.set(key, { last: v, min: v, max: v, sum: v, seconds: 1 });
      else {
        g.last = v;
        if (v < g.min) g.min = v;
        if (v > g.max) g.max = v;
        g.sum += v;
        g.seconds++;
      }
    }
  }

  /** Adds one whole closed second (counters, histograms, gauges): the totals of a time window. */
  addSecond(s: SecondData): void {
    for (const [k, n] of s.counters) this.addCounter(k, n);
    for (const [k, h] of s.histograms) this.histogram(k).addSparse(h.buckets, h.count, h.sum, h.min, h.max);
    this.observeSecond(s.t, s.gauges);
  }

  /**
   * Adds another run's totals (another shard). Counters and histograms merge exactly; gauges
   * combine per catalogue (sum or max) — for sums, min/max become bounds, not exact values.
   */
  merge(other: RunTotals, catalogue: Catalogue = DEFAULT_CATALOGUE): this {
    if (other.from !== null && (this.from === null || other.from < this.from)) this.from = other.from;
    if (other.to !== null && (this.to === null || other.to > this.to)) this.to = other.to;
    for (const [k, n] of other.counters) this.addCounter(k, n);
    for (const [k, h] of other.histograms) this.histogram(k).addCounts(h);
    for (const [k, g] of other.gauges) {
      const mine = this.gauges.get(k);
      if (!mine) {
        this.gauges.set(k, { ...g });
        continue;
      }
      // Shards cover the same seconds: the combined average is the sum (or max) of the averages.
      const seconds = Math.max(mine.seconds, g.seconds);
      const avg = (x: GaugeTotals) => (x.seconds > 0 ? x.sum / x.seconds : 0);
      if (gaugeCombine(k, catalogue) === 'max') {
        mine.last = Math.max(mine.last, g.last);
        mine.min = Math.max(mine.min, g.min);
        mine.max = Math.max(mine.max, g.max);
        mine.sum = Math.max(avg(mine), avg(g)) * seconds;
      } else {
        mine.last += g.last;
        mine.min += g.min;
        mine.max += g.max;
        mine.sum = (avg(mine) + avg(g)) * seconds;
      }
      mine.seconds = seconds;
    }
    return this;
  }

  serialize(): SerializedTotals {
    const histograms: Record<string, SerializedHistogram> = {};
    for (const [k, h] of this.histograms) {
      if (h.count === 0) continue;
      histograms[k] = { count: h.count, sum: h.sum, min: h.min, max: h.max, hdr: encodeHdr(h) };
    }
    return {
      format: 'ivtfarm-metrics-totals',
      v: 1,
      from: this.from,
      to: this.to,
      counters: Object.fromEntries(this.counters),
      gauges: Object.fromEntries([...this.gauges].map(([k, g]) => [k, { ...g }])),
      histograms,
    };
  }

  static deserialize(input: unknown): RunTotals {
    const s = input as Partial<SerializedTotals> | null;
    if (s?.format !== 'ivtfarm-metrics-totals' || s.v !== 1) {
      throw new Error('not an ivtfarm metrics totals object (format/v mismatch)');
    }
    const t = new RunTotals();
    t.from = typeof s.from === 'number' ? s.from : null;
    t.to = typeof s.to === 'number' ? s.to : null;
    for (const [k, n] of Object.entries(s.counters ?? {})) {
      if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`counter ${k} is not a number`);
      t.counters.set(k, n);
    }
    for (const [k, g] of Object.entries(s.gauges ?? {})) {
      if (typeof g?.last !== 'number' || typeof g.min !== 'number' || typeof g.max !== 'number') {
        throw new Error(`gauge ${k} needs last/min/max numbers`);
      }
      // Totals written before gauges had an average carry none (avg reads as no data).
      const sum = typeof g.sum === 'number' ? g.sum : 0;
      const seconds = typeof g.seconds === 'number' ? g.seconds : 0;
      t.gauges.set(k, { last: g.last, min: g.min, max: g.max, sum, seconds });
    }
    for (const [k, h] of Object.entries(s.histograms ?? {})) {
      if (typeof h?.hdr !== 'string') throw new Error(`histogram ${k} has no hdr encoding`);
      const counts = decodeHdr(h.hdr);
      let total = 0;
      for (let i = 0; i < counts.counts.length; i++) total += counts.counts[i]!;
      if (total !== h.count)
        throw new Error(`histogram ${k}: encoding holds ${total} samples, count says ${h.count}`);
      counts.addStats(h.count, h.sum, h.min, h.max);
      t.histograms.set(k, counts);
    }
    return t;
  }
}

/** Merges shard results into one (inputs untouched). */
export function mergeTotals(
  parts: readonly RunTotals[],
  catalogue: Catalogue = DEFAULT_CATALOGUE,
): RunTotals {
  const out = new RunTotals();
  for (const p of parts) out.merge(p, catalogue);
  return out;
}
