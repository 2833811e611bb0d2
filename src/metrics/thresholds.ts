// Thresholds in k6 syntax: parsing of the scenario's `thresholds:` map, checking against the
// catalogue, final verdict on the run totals, live evaluation on a sliding window of seconds with
// "abort when failing continuously for `window`".

import type { Aggregator, RawSecond } from './aggregator.js';
import { type Catalogue, DEFAULT_CATALOGUE, histogramScale, type MetricDef } from './catalogue.js';
import { HdrCounts } from './hdr.js';
import { type Labels, labelsMatch, parseSeriesKey } from './labels.js';
import {
  compare,
  formatComparison,
  type MetricSelector,
  parseExpression,
  parseSelector,
  type ThresholdExpression,
  ThresholdSyntaxError,
} from './threshold-expr.js';
import { gaugeCombine, type RunTotals } from './totals.js';

export interface ThresholdObject {
  threshold: string;
  /** Stop the run when this threshold fails (live), after it failed continuously for `window`. */
  abortOnFail?: boolean;
  abort_on_fail?: boolean;
  /** No abort before this long after the first second of the run (warm-up), e.g. "1m". */
  delayAbortEval?: string | number;
  delay_abort_eval?: string | number;
  /** How long it must fail without a passing second before the abort, e.g. "30s" (default 0: at once). */
  window?: string | number;
  /** Live evaluation looks at the last `lookback` seconds of data (default 10s). */
  lookback?: string | number;
}

export type ThresholdSpec = string | ThresholdObject;
export type ThresholdsConfig = Record<string, ThresholdSpec | readonly ThresholdSpec[]>;

export interface Threshold {
  /** Selector as written, e.g. `rpc_duration{method:RTMPPublish}`. */
  metric: string;
  selector: MetricSelector;
  def: MetricDef;
  expression: ThresholdExpression;
  abortOnFail: boolean;
  delayAbortEvalS: number;
  windowS: number;
  lookbackS: number;
}

export interface ThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
  /** The aggregated value compared (in the metric's unit), null when there was no data. */
  observed: number | null;
  /** Live only: first second (epoch s) of the current run of failing evaluations. */
  windowFailedSince?: number;
  /** Live only: this threshold asked for the run to stop. */
  aborted?: boolean;
}

export class ThresholdConfigError extends Error {
  override name = 'ThresholdConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid thresholds:\n  - ${problems.join('\n  - ')}`);
  }
}

const DURATION = /^(?:(\d+(?:\.\d+)?)(ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const UNIT_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** k6-style duration (`500ms`, `30s`, `1m30s`, `2h`) or a number of seconds → seconds. */
export function parseDurationSeconds(x: string | number): number {
  if (typeof x === 'number') {
    if (!(x >= 0) || !Number.isFinite(x)) throw new Error(`duration must be a non-negative number, got ${x}`);
    return x;
  }
  const s = x.trim();
  if (!DURATION.test(s)) throw new Error(`"${x}" is not a duration (expected e.g. 500ms, 30s, 1m30s, 2h)`);
  let total = 0;
  for (const m of s.matchAll(DURATION_PART)) total += Number(m[1]) * UNIT_S[m[2]!]!;
  return total;
}

const ALLOWED: Record<MetricDef['kind'], readonly string[]> = {
  counter: ['count', 'rate'],
  gauge: ['value', 'min', 'max'],
  histogram: ['avg', 'min', 'max', 'med', 'p', 'count'],
};

function checkAgainstCatalogue(
  sel: MetricSelector,
  expr: ThresholdExpression,
  catalogue: Catalogue,
): MetricDef {
  const def = catalogue.get(sel.name);
  if (!def) throw new Error(`unknown metric "${sel.name}"`);
  for (const k of Object.keys(sel.filter)) {
    if (!def.labels.includes(k as never)) {
      throw new Error(`metric ${def.name} has no label "${k}" (labels: ${def.labels.join(', ') || 'none'})`);
    }
  }
  const agg = expr.agg.name;
  if (!ALLOWED[def.kind].includes(agg)) {
    const shown = agg === 'p' ? 'p(N)' : agg;
    throw new Error(
      `${shown} does not apply to ${def.kind} ${def.name} (use ${ALLOWED[def.kind].map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')})`,
    );
  }
  if (agg === 'rate') {
    if (!def.rate)
      throw new Error(`rate is not defined for ${def.name}: it has no denominator in the catalogue`);
    if (def.rate.of === def.name && !def.rate.outcome?.some((k) => sel.filter[k] !== undefined)) {
      throw new Error(
        `rate of ${def.name} is a share of its own events: filter on ${def.rate.outcome?.join(' or ')} (e.g. ${def.name}{${def.rate.outcome?.[0]}:...})`,
      );
    }
  }
  return def;
}

function optionsOf(spec: ThresholdSpec): {
  threshold: string;
  abort: boolean;
  delay: string | number;
  window: string | number;
  lookback: string | number;
} {
  if (typeof spec === 'string') return { threshold: spec, abort: false, delay: 0, window: 0, lookback: 10 };
  if (typeof spec !== 'object' || spec === null || typeof spec.threshold !== 'string') {
    throw new Error('a threshold is a string like "p(99)<500" or an object with a "threshold" string');
  }
  return {
    threshold: spec.threshold,
    abort: Boolean(spec.abortOnFail ?? spec.abort_on_fail ?? false),
    delay: spec.delayAbortEval ?? spec.delay_abort_eval ?? 0,
    window: spec.window ?? 0,
    lookback: spec.lookback ?? 10,
  };
}

/** Parses and checks the whole `thresholds:` map; every problem is reported at once. */
export function parseThresholds(config: unknown, catalogue: Catalogue = DEFAULT_CATALOGUE): Threshold[] {
  if (config === undefined || config === null) return [];
  if (typeof config !== 'object' || Array.isArray(config)) {
    throw new ThresholdConfigError(['thresholds must be a map of metric → list of expressions']);
  }
  const out: Threshold[] = [];
  const problems: string[] = [];
  for (const [metric, raw] of Object.entries(config as Record<string, unknown>)) {
    let selector: MetricSelector;
    try {
      selector = parseSelector(metric);
    } catch (e) {
      problems.push(`metric ${(e as Error).message}`);
      continue;
    }
    const specs = (Array.isArray(raw) ? raw : [raw]) as ThresholdSpec[];
    for (const spec of specs) {
      try {
        const o = optionsOf(spec);
        const expression = parseExpression(o.threshold);
        const def = checkAgainstCatalogue(selector, expression, catalogue);
        out.push({
          metric: metric.trim(),
          selector,
          def,
          expression,
          abortOnFail: o.abort,
          delayAbortEvalS: parseDurationSeconds(o.delay),
          windowS: parseDurationSeconds(o.window),
          lookbackS: Math.max(1, Math.round(parseDurationSeconds(o.lookback))),
        });
      } catch (e) {
        const text = typeof spec === 'string' ? spec : ((spec as ThresholdObject)?.threshold ?? '?');
        const msg = (e as Error).message;
        problems.push(
          e instanceof ThresholdSyntaxError ? `${metric}: ${msg}` : `${metric}: "${text}": ${msg}`,
        );
      }
    }
  }
  if (problems.length > 0) throw new ThresholdConfigError(problems);
  return out;
}

/** Read access to data, over the run totals or over a window of seconds. */
interface DataView {
  counterSum(name: string, filter: Labels): number;
  /** Combined gauge value of the matching series: last, min or max over the view. */
  gauge(name: string, filter: Labels, which: 'value' | 'min' | 'max', catalogue: Catalogue): number | null;
  histogram(name: string, filter: Labels, into: HdrCounts): void;
}

function matches(key: string, name: string, filter: Labels): boolean {
  const p = parseSeriesKey(key);
  return p.name === name && labelsMatch(p.labels, filter);
}

function combineInto(acc: number | null, v: number, mode: 'sum' | 'max'): number {
  if (acc === null) return v;
  return mode === 'max' ? Math.max(acc, v) : acc + v;
}

function totalsView(t: RunTotals): DataView {
  return {
    counterSum(name, filter) {
      let s = 0;
      for (const [k, n] of t.counters) if (matches(k, name, filter)) s += n;
      return s;
    },
    gauge(name, filter, which, catalogue) {
      let acc: number | null = null;
      for (const [k, g] of t.gauges) {
        if (!matches(k, name, filter)) continue;
        acc = combineInto(acc, which === 'value' ? g.last : g[which], gaugeCombine(k, catalogue));
      }
      return acc;
    },
    histogram(name, filter, into) {
      for (const [k, h] of t.histograms) if (matches(k, name, filter)) into.addCounts(h);
    },
  };
}

function windowView(seconds: readonly RawSecond[]): DataView {
  return {
    counterSum(name, filter) {
      let s = 0;
      for (const sec of seconds) for (const [k, n] of sec.counters) if (matches(k, name, filter)) s += n;
      return s;
    },
    gauge(name, filter, which, catalogue) {
      let result: number | null = null;
      for (const sec of seconds) {
        let acc: number | null = null;
        for (const k in sec.gauges) {
          if (matches(k, name, filter)) acc = combineInto(acc, sec.gauges[k]!, gaugeCombine(k, catalogue));
        }
        if (acc === null) continue;
        if (which === 'value' || result === null) result = acc;
        else result = which === 'min' ? Math.min(result, acc) : Math.max(result, acc);
      }
      return result;
    },
    histogram(name, filter, into) {
      for (const sec of seconds) {
        for (const [k, h] of sec.histograms) {
          if (matches(k, name, filter)) into.addSparse(h.buckets, h.count, h.sum, h.min, h.max);
        }
      }
    },
  };
}

/** Aggregated value of a threshold over a view, or null without data. */
function observe(th: Threshold, view: DataView, catalogue: Catalogue, scratch: HdrCounts): number | null {
  const { def, selector, expression } = th;
  const agg = expression.agg;
  switch (def.kind) {
    case 'counter': {
      const n = view.counterSum(def.name, selector.filter);
      if (agg.name === 'count') return n;
      const rate = def.rate!;
      const denomDef = catalogue.get(rate.of);
      const denomFilter: Labels = { ...rate.where };
      for (const [k, v] of Object.entries(selector.filter)) {
        const key = k as keyof Labels;
        if (denomDef?.labels.includes(key) && !rate.outcome?.includes(key)) denomFilter[key] = v;
      }
      const d = view.counterSum(rate.of, denomFilter);
      return d === 0 ? null : n / d;
    }
    case 'gauge':
      return view.gauge(def.name, selector.filter, agg.name as 'value' | 'min' | 'max', catalogue);
    case 'histogram': {
      scratch.reset();
      view.histogram(def.name, selector.filter, scratch);
      if (agg.name === 'count') return scratch.count;
      if (scratch.count === 0) return null;
      const scale = histogramScale(def.unit);
      switch (agg.name) {
        case 'avg':
          return scratch.sum / scratch.count / scale;
        case 'min':
          return scratch.min / scale;
        case 'max':
          return scratch.max / scale;
        case 'med':
          return scratch.percentile(50) / scale;
        case 'p':
          return scratch.percentile(agg.p) / scale;
        default:
          return null;
      }
    }
  }
}

function expressionText(th: Threshold): string {
  return formatComparison(th.expression);
}

/**
 * Final verdict on the run totals. Without data (no samples, zero denominator) a threshold passes
 * with observed = null, as in k6; guard with `count>0` where absence itself is a failure.
 */
export function evaluateThresholds(
  thresholds: readonly Threshold[],
  totals: RunTotals,
  catalogue: Catalogue = DEFAULT_CATALOGUE,
): ThresholdResult[] {
  const view = totalsView(totals);
  const scratch = new HdrCounts('f64');
  return thresholds.map((th) => {
    const observed = observe(th, view, catalogue, scratch);
    const ok = observed === null || compare(observed, th.expression.op, th.expression.value);
    return { metric: th.metric, expression: expressionText(th), ok, observed };
  });
}

export function allPassed(results: readonly ThresholdResult[]): boolean {
  return results.every((r) => r.ok);
}

interface LiveState {
  failedSince: number | null;
  aborted: boolean;
  result: ThresholdResult;
}

export interface LiveThresholdsOptions {
  catalogue?: Catalogue;
  /** First second of the run (epoch s) for delayAbortEval; default the first second observed. */
  startT?: number;
  onAbort?: (result: ThresholdResult) => void;
}

/**
 * Evaluates thresholds once per closed second. Percentiles, averages, rates and gauges use the
 * last `lookback` seconds; `count` uses the run so far (a count only makes sense cumulatively).
 * A threshold with abortOnFail aborts once it has failed at every evaluation (seconds without
 * data do not interrupt the streak) for `window`, and not before `delayAbortEval` into the run.
 */
export class LiveThresholds {
  private readonly catalogue: Catalogue;
  private readonly states: LiveState[];
  private readonly recent: RawSecond[] = [];
  private readonly maxLookback: number;
  private readonly scratch = new HdrCounts('f64');
  private startT: number | null;
  private abortResult: ThresholdResult | null = null;
  private readonly onAbort: ((r: ThresholdResult) => void) | undefined;

  constructor(
    private readonly thresholds: readonly Threshold[],
    opts: LiveThresholdsOptions = {},
  ) {
    this.catalogue = opts.catalogue ?? DEFAULT_CATALOGUE;
    this.startT = opts.startT ?? null;
    this.onAbort = opts.onAbort;
    this.maxLookback = Math.max(1, ...thresholds.map((t) => t.lookbackS));
    this.states = thresholds.map((th) => ({
      failedSince: null,
      aborted: false,
      result: { metric: th.metric, expression: expressionText(th), ok: true, observed: null },
    }));
  }

  /** Subscribes to an aggregator's closed seconds. */
  attach(aggregator: Aggregator): this {
    aggregator.onSecond((raw) => this.observe(raw, aggregator.totals));
    return this;
  }

  /** The threshold that requested the abort, if any. */
  get aborted(): ThresholdResult | null {
    return this.abortResult;
  }

  results(): ThresholdResult[] {
    return this.states.map((s) => ({ ...s.result }));
  }

  observe(raw: RawSecond, totals: RunTotals): void {
    if (this.startT === null) this.startT = raw.t;
    this.recent.push(raw);
    while (this.recent.length > 0 && this.recent[0]!.t <= raw.t - this.maxLookback) this.recent.shift();
    const cumulative = totalsView(totals);
    this.thresholds.forEach((th, i) => {
      const state = this.states[i]!;
      const from = raw.t - th.lookbackS;
      const view =
        th.expression.agg.name === 'count' ? cumulative : windowView(this.recent.filter((s) => s.t > from));
      const observed = observe(th, view, this.catalogue, this.scratch);
      const inDelay = raw.t < this.startT! + th.delayAbortEvalS;
      if (observed !== null) {
        const pass = compare(observed, th.expression.op, th.expression.value);
        if (pass) state.failedSince = null;
        else if (state.failedSince === null && !inDelay) state.failedSince = raw.t;
        state.result = { metric: th.metric, expression: expressionText(th), ok: pass, observed };
      }
      if (state.aborted) state.result.aborted = true;
      if (state.failedSince !== null) state.result.windowFailedSince = state.failedSince;
      else delete state.result.windowFailedSince;
      if (
        th.abortOnFail &&
        this.abortResult === null &&
        state.failedSince !== null &&
        !inDelay &&
        raw.t - state.failedSince + 1 >= Math.max(th.windowS, 1)
      ) {
        state.aborted = true;
        state.result.aborted = true;
        this.abortResult = { ...state.result };
        this.onAbort?.(this.abortResult);
      }
    });
  }
}
