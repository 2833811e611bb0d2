// Coordinator side: merges the deltas of all workers into per-second samples and run totals.
// A delta belongs to the second holding the middle of its interval; once a second is closed, a
// late delta goes to the next open second (its counts still reach the totals exactly).

import { type Catalogue, DEFAULT_CATALOGUE, histogramScale } from './catalogue.js';
import { decodeDelta, type HistogramDelta, type MetricsDelta } from './delta.js';
import { HdrCounts } from './hdr.js';
import { parseSeriesKey } from './labels.js';
import { type HistogramSummary, summarize } from './summary.js';
import { gaugeCombine, RunTotals } from './totals.js';

/** One second of the run, as written to the time-series file (one JSON line each). */
export interface SecondSample {
  /** Epoch seconds. */
  t: number;
  /** Counter increments during that second, summed over workers (non-zero only). */
  counters: Record<string, number>;
  /** Gauge values at the end of that second, combined over workers (sum, or max per catalogue). */
  gauges: Record<string, number>;
  /** Samples recorded during that second, merged over workers, in the metric's unit. */
  histograms: Record<string, HistogramSummary>;
}

/** The mergeable data of one closed second, for window evaluation (thresholds, capacity steps). */
export interface RawSecond {
  t: number;
  counters: ReadonlyMap<string, number>;
  gauges: Readonly<Record<string, number>>;
  histograms: ReadonlyMap<string, HistogramDelta>;
  /**
   * Start of this second in ms since the load started (negative for the second the load started
   * in); null before the load start was marked, and for seconds that end after the load began to
   * stop (their gauges show teardown, not load).
   */
  loadMs: number | null;
}

export type SecondListener = (raw: RawSecond, sample: SecondSample) => void;

export function toJsonLine(sample: SecondSample): string {
  return `${JSON.stringify(sample)}\n`;
}

/** Reads back one line of the time-series file (for reports); throws on anything else. */
export function fromJsonLine(line: string): SecondSample {
  const x = JSON.parse(line) as Partial<SecondSample> | null;
  const isMap = (m: unknown) => typeof m === 'object' && m !== null && !Array.isArray(m);
  if (typeof x?.t !== 'number' || !isMap(x.counters) || !isMap(x.gauges) || !isMap(x.histograms)) {
    throw new Error('not a metrics time-series line (needs t, counters, gauges, histograms)');
  }
  return x as SecondSample;
}

interface Bucket {
  counters: Map<string, number>;
  /** Per source: gauges of its latest delta in this second. */
  gauges: Map<string, { to: number; values: Record<string, number> }>;
  histograms: Map<string, HdrCounts>;
}

export interface AggregatorOptions {
  catalogue?: Catalogue;
  /** Seconds to wait for slow workers before closeReady() closes a second (default 1). */
  graceSeconds?: number;
}

export class Aggregator {
  readonly totals = new RunTotals();
  /** Deltas that arrived after their second was closed (moved to the next open second). */
  lateDeltas = 0;
  private readonly catalogue: Catalogue;
  private readonly grace: number;
  private readonly open = new Map<number, Bucket>();
  private readonly lastGauges = new Map<string, Record<string, number>>();
  private readonly listeners: SecondListener[] = [];
  private readonly pool: HdrCounts[] = [];
  private readonly scales = new Map<string, number>();
  private lastClosed: number | null = null;
  private latestSample: SecondSample | null = null;
  private loadStartMs: number | null = null;
  private loadEndMs: number | null = null;

  constructor(opts: AggregatorOptions = {}) {
    this.catalogue = opts.catalogue ?? DEFAULT_CATALOGUE;
    this.grace = opts.graceSeconds ?? 1;
  }

  /** The last closed second (for live displays and /metrics gauges). */
  get latest(): SecondSample | null {
    return this.latestSample;
  }

  /** The load starts now (epoch ms): windows (`during`, capacity steps) count from here. */
  markLoadStart(ms: number): void {
    this.loadStartMs = ms;
  }

  /**
   * The load begins to stop now (epoch ms): seconds ending later are wind-down. Their gauges no
   * longer reach the totals (every gauge falls to 0 in a teardown) and they fall in no window.
   */
  markLoadEnd(ms: number): void {
    this.loadEndMs ??= ms;
  }

  onSecond(listener: SecondListener): void {
    this.listeners.push(listener);
  }

  /** Merges one worker delta (validated first: it crossed a thread or process boundary). */
  add(input: MetricsDelta | unknown): void {
    const delta = decodeDelta(input);
    let t = Math.floor((delta.from + delta.to) / 2000);
    if (this.lastClosed !== null && t <= this.lastClosed) {
      t = this.lastClosed + 1;
      this.lateDeltas++;
    }
    let b = this.open.get(t);
    if (!b) {
      b = { counters: new Map(), gauges: new Map(), histograms: new Map() };
      this.open.set(t, b);
    }
    for (const key in delta.counters) {
      const n = delta.counters[key]!;
      b.counters.set(key, (b.counters.get(key) ?? 0) + n);
      this.totals.addCounter(key, n);
    }
    for (const key in delta.histograms) {
      const h = delta.histograms[key]!;
      let dense = b.histograms.get(key);
      if (!dense) {
        dense = this.pool.pop() ?? new HdrCounts('u32');
        b.histograms.set(key, dense);
      }
      dense.addSparse(h.buckets, h.count, h.sum, h.min, h.max);
      this.totals.histogram(key).addSparse(h.buckets, h.count, h.sum, h.min, h.max);
    }
    const prev = b.gauges.get(delta.source);
    if (!prev || prev.to <= delta.to) b.gauges.set(delta.source, { to: delta.to, values: delta.gauges });
  }

  /** Forgets a source's gauges (a worker that exited no longer holds devices). */
  removeSource(source: string): void {
    this.lastGauges.delete(source);
    for (const b of this.open.values()) b.gauges.delete(source);
  }

  /** Closes every second up to `now` minus the grace period. */
  closeReady(nowMs: number = Date.now()): SecondSample[] {
    return this.closeUpTo(Math.floor(nowMs / 1000) - 1 - this.grace);
  }

  /** Closes all open seconds ≤ t, in order; seconds without any delta in between still yield a sample. */
  closeUpTo(t: number): SecondSample[] {
    const out: SecondSample[] = [];
    let first = this.lastClosed === null ? Number.POSITIVE_INFINITY : this.lastClosed + 1;
    if (this.lastClosed === null) for (const s of this.open.keys()) if (s < first) first = s;
    for (let s = first; s <= t; s++) out.push(this.closeSecond(s));
    return out;
  }

  /** Closes everything still open (end of run). */
  closeAll(): SecondSample[] {
    let last = Number.NEGATIVE_INFINITY;
    for (const s of this.open.keys()) if (s > last) last = s;
    return last === Number.NEGATIVE_INFINITY ? [] : this.closeUpTo(last);
  }

  private scaleOf(key: string): number {
    let s = this.scales.get(key);
    if (s === undefined) {
      const def = this.catalogue.get(parseSeriesKey(key).name);
      s = def ? histogramScale(def.unit) : 1;
      this.scales.set(key, s);
    }
    return s;
  }

  private closeSecond(t: number): SecondSample {
    const b = this.open.get(t);
    this.open.delete(t);
    this.lastClosed = t;
    if (b) for (const [source, g] of b.gauges) this.lastGauges.set(source, g.values);
    const gauges: Record<string, number> = {};
    for (const values of this.lastGauges.values()) {
      for (const key in values) {
        const v = values[key]!;
        const cur = gauges[key];
        if (cur === undefined) gauges[key] = v;
        else gauges[key] = gaugeCombine(key, this.catalogue) === 'max' ? Math.max(cur, v) : cur + v;
      }
    }
    const histograms: Record<string, HistogramSummary> = {};
    const rawHistograms = new Map<string, HistogramDelta>();
    if (b) {
      for (const [key, dense] of b.histograms) {
        histograms[key] = summarize(dense, this.scaleOf(key));
        if (this.listeners.length > 0) {
          rawHistograms.set(key, {
            count: dense.count,
            sum: dense.sum,
            min: dense.min,
            max: dense.max,
            buckets: dense.toSparse(),
          });
        }
        dense.reset();
        this.pool.push(dense);
      }
    }
    const counters = b ? Object.fromEntries(b.counters) : {};
    const sample: SecondSample = { t, counters, gauges, histograms };
    const windDown = this.loadEndMs !== null && (t + 1) * 1000 > this.loadEndMs;
    this.totals.observeSecond(t, windDown ? null : gauges);
    this.latestSample = sample;
    if (this.listeners.length > 0) {
      const loadMs = this.loadStartMs === null || windDown ? null : t * 1000 - this.loadStartMs;
      const raw: RawSecond = {
        t,
        counters: b?.counters ?? new Map(),
        gauges,
        histograms: rawHistograms,
        loadMs,
      };
      for (const l of this.listeners) l(raw, sample);
    }
    return sample;
  }
}
