// Thresholds in k6 syntax: parsing of the scenario's `thresholds:` map (as written, snake_case
// keys), checking against the catalogue, final verdict on the run totals (or a window's totals),
// live evaluation on a sliding window of seconds with "abort when failing continuously for
// `window`". The only parser of thresholds: the scenario loader validates with it too.

import { parseDuration } from '../core/duration.js';
import { closest } from '../core/suggest.js';
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
} from './threshold-expr.js';
import { gaugeCombine, type RunTotals } from './totals.js';
import { secondInWindow, type TimeWindow } from './window-totals.js';

export interface ThresholdObject {
  threshold: string;
  /** Stop the run when this threshold fails (live), after it failed continuously for `window`. */
  abort_on_fail?: boolean;
  /** No abort before this long after the first second of the run (warm-up), e.g. "1m". */
  delay_abort_eval?: string | number;
  /** How long it must fail without a passing second before the abort, e.g. "30s" (default 0: at once). */
  window?: string | number;
  /** Judge only this part of the load: a named stage, or a range such as `30s..90s`. */
  during?: string;
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
  /** Live evaluation looks at the last `lookbackS` seconds (10; the limit finder uses less). */
  lookbackS: number;
  /** Judged only on the seconds of this window of the load; null: the whole run. */
  during: TimeWindow | null;
}

export interface ThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
  /** The aggregated value compared (in the metric's unit), null when there was no data. */
  observed: number | null;
  /** The window judged, as written (`during`), when not the whole run. */
  during?: string;
  /** Live only: first second (epoch s) of the current run of failing evaluations. */
  windowFailedSince?: number;
  /** Live only: this threshold asked for the run to stop. */
  aborted?: boolean;
}

/** One mistake in a thresholds map: which key, which entry (null: the key itself), which field. */
export interface ThresholdProblem {
  key: string;
  index: number | null;
  field?: keyof ThresholdObject;
  message: string;
}

export class ThresholdConfigError extends Error {
  override name = 'ThresholdConfigError';
  constructor(readonly problems: readonly ThresholdProblem[]) {
    super(`invalid thresholds:\n  - ${problems.map((p) => `${p.key}: ${p.message}`).join('\n  - ')}`);
  }
}

export interface ParseThresholdsOptions {
  catalogue?: Catalogue;
  /** Named stages of the load, for `during: <name>`: ms since the load started. */
  stages?: Readonly<Record<string, { fromMs: number; toMs: number }>>;
}

const LIVE_LOOKBACK_S = 10;

const ALLOWED: Record<MetricDef['kind'], readonly string[]> = {
  counter: ['count', 'rate'],
  gauge: ['min', 'max', 'avg', 'last', 'value'],
  histogram: ['avg', 'min', 'max', 'med', 'p', 'count'],
};

function checkAgainstCatalogue(
  sel: MetricSelector,
  expr: ThresholdExpression,
  catalogue: Catalogue,
): MetricDef {
  const def = catalogue.get(sel.name);
  if (!def) {
    const near = closest(sel.name, [...catalogue.keys()]);
    throw new Error(`unknown metric "${sel.name}"${near ? ` (did you mean "${near}"?)` : ''}`);
  }
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

const RANGE = /^\s*([^.\s]*)\s*\.\.\s*([^.\s]*)\s*$/;

/** `during`: a stage name, or `FROM..TO` (either end may be left out) since the load started. */
function parseDuring(text: string, stages: ParseThresholdsOptions['stages']): TimeWindow {
  const range = RANGE.exec(text);
  if (range) {
    const fromMs = range[1] ? parseDuration(range[1]) : 0;
    const toMs = range[2] ? parseDuration(range[2]) : Number.POSITIVE_INFINITY;
    if (!(toMs > fromMs)) throw new Error(`"${text}" ends before it starts`);
    return { label: text.trim(), fromMs, toMs };
  }
  const stage = stages?.[text];
  if (stage) return { label: text, ...stage };
  const names = Object.keys(stages ?? {});
  const near = closest(text, names);
  throw new Error(
    `no stage named "${text}"${near ? ` (did you mean "${near}"?)` : ''}; expected ${
      names.length > 0 ? `one of ${names.join(', ')}, or ` : ''
    }a range such as 30s..90s`,
  );
}

const FIELDS: ReadonlyArray<keyof ThresholdObject> = [
  'threshold',
  'abort_on_fail',
  'delay_abort_eval',
  'window',
  'during',
];

/** Runs one step of parsing an entry; its error becomes a problem naming the field. */
function field<T>(
  problems: ThresholdProblem[],
  at: Omit<ThresholdProblem, 'message'>,
  parse: () => T,
): T | undefined {
  try {
    return parse();
  } catch (e) {
    problems.push({ ...at, message: (e as Error).message });
    return undefined;
  }
}

function parseEntry(
  spec: ThresholdSpec,
  selector: MetricSelector,
  at: Omit<ThresholdProblem, 'message'>,
  opts: ParseThresholdsOptions,
  problems: ThresholdProblem[],
): Threshold | undefined {
  const o: ThresholdObject = typeof spec === 'string' ? { threshold: spec } : spec;
  if (typeof o !== 'object' || o === null || typeof o.threshold !== 'string') {
    problems.push({
      ...at,
      message: 'a threshold is a string like "p(99)<500" or an object with a "threshold" string',
    });
    return undefined;
  }
  const before = problems.length;
  for (const k of Object.keys(o)) {
    if (!FIELDS.includes(k as keyof ThresholdObject)) {
      const near = closest(k, FIELDS);
      problems.push({ ...at, message: `unknown field "${k}"${near ? ` (did you mean "${near}"?)` : ''}` });
    }
  }
  const catalogue = opts.catalogue ?? DEFAULT_CATALOGUE;
  const parsed = field(problems, { ...at, field: 'threshold' }, () => {
    const expression = parseExpression(o.threshold);
    return { expression, def: checkAgainstCatalogue(selector, expression, catalogue) };
  });
  const seconds = (name: 'delay_abort_eval' | 'window') =>
    field(problems, { ...at, field: name }, () => parseDuration(o[name] ?? 0) / 1000);
  const delayAbortEvalS = seconds('delay_abort_eval');
  const windowS = seconds('window');
  const during =
    o.during === undefined
      ? null
      : field(problems, { ...at, field: 'during' }, () => parseDuring(String(o.during), opts.stages));
  if (problems.length > before || !parsed || delayAbortEvalS === undefined || windowS === undefined)
    return undefined;
  return {
    metric: selector.source.trim(),
    selector,
    def: parsed.def,
    expression: parsed.expression,
    abortOnFail: o.abort_on_fail ?? false,
    delayAbortEvalS,
    windowS,
    lookbackS: LIVE_LOOKBACK_S,
    during: during ?? null,
  };
}

/** Parses and checks the whole `thresholds:` map; every problem is reported at once. */
export function parseThresholds(config: unknown, opts: ParseThresholdsOptions = {}): Threshold[] {
  if (config === undefined || config === null) return [];
  if (typeof config !== 'object' || Array.isArray(config)) {
    throw new ThresholdConfigError([
      { key: '', index: null, message: 'thresholds must be a map of metric → list of expressions' },
    ]);
  }
  const out: Threshold[] = [];
  const problems: ThresholdProblem[] = [];
  for (const [key, raw] of Object.entries(config as Record<string, unknown>)) {
    const selector = field(problems, { key, index: null }, () => parseSelector(key));
    if (!selector) continue;
    const specs = (Array.isArray(raw) ? raw : [raw]) as ThresholdSpec[];
    specs.forEach((spec, i) => {
      const th = parseEntry(spec, selector, { key, index: Array.isArray(raw) ? i : null }, opts, problems);
      if (th) out.push(th);
    });
  }
  if (problems.length > 0) throw new ThresholdConfigError(problems);
  return out;
}

/** The distinct windows the thresholds are scoped to (`during`), for WindowTotals. */
export function thresholdWindows(thresholds: readonly Threshold[]): TimeWindow[] {
  const byLabel = new Map<string, TimeWindow>();
  for (const th of thresholds) if (th.during) byLabel.set(th.during.label, th.during);
  return [...byLabel.values()];
}

type GaugeAggregation = 'last' | 'min' | 'max' | 'avg';

/** Read access to data, over the run totals or over a window of seconds. */
interface DataView {
  counterSum(name: string, filter: Labels): number;
  /** Combined gauge value of the matching series: last, min, max or avg over the view. */
  gauge(name: string, filter: Labels, which: GaugeAggregation, catalogue: Catalogue): number | null;
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
        if (which === 'avg' && g.seconds === 0) continue;
        const v = which === 'avg' ? g.sum / g.seconds : g[which];
        acc = combineInto(acc, v, gaugeCombine(k, catalogue));
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
      let sum = 0;
      let n = 0;
      for (const sec of seconds) {
        let acc: number | null = null;
        for (const k in sec.gauges) {
          if (matches(k, name, filter)) acc = combineInto(acc, sec.gauges[k]!, gaugeCombine(k, catalogue));
        }
        if (acc === null) continue;
        sum += acc;
        n++;
        if (which === 'last' || which === 'avg' || result === null) result = acc;
        else result = which === 'min' ? Math.min(result, acc) : Math.max(result, acc);
      }
      return which === 'avg' && n > 0 ? sum / n : result;
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
      // `value` is the k6 name of `last`.
      return view.gauge(
        def.name,
        selector.filter,
        agg.name === 'value' ? 'last' : (agg.name as GaugeAggregation),
        catalogue,
      );
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

function resultOf(th: Threshold, observed: number | null, ok: boolean): ThresholdResult {
  return {
    metric: th.metric,
    expression: expressionText(th),
    ok,
    observed,
    ...(th.during ? { during: th.during.label } : {}),
  };
}

/** The value of one threshold over some totals (whole run, or a window's), null without data. */
export function observeTotals(
  th: Threshold,
  totals: RunTotals,
  catalogue: Catalogue = DEFAULT_CATALOGUE,
): number | null {
  return observe(th, totalsView(totals), catalogue, new HdrCounts('f64'));
}

/**
 * Final verdict on the run totals, or for a threshold with `during` on the totals of its window
 * (`windows`, by label). Without data (no samples, zero denominator) a threshold passes with
 * observed = null, as in k6; guard with `count>0` where absence itself is a failure.
 */
export function evaluateThresholds(
  thresholds: readonly Threshold[],
  totals: RunTotals,
  windows: ReadonlyMap<string, RunTotals> = new Map(),
  catalogue: Catalogue = DEFAULT_CATALOGUE,
): ThresholdResult[] {
  const scratch = new HdrCounts('f64');
  return thresholds.map((th) => {
    const source = th.during ? windows.get(th.during.label) : totals;
    const observed = source ? observe(th, totalsView(source), catalogue, scratch) : null;
    const ok = observed === null || compare(observed, th.expression.op, th.expression.value);
    return resultOf(th, observed, ok);
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
      result: resultOf(th, null, true),
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
      const during = th.during;
      // A scoped threshold is judged live only inside its window, and `count` only at the end.
      if (during && (!secondInWindow(during, raw.loadMs) || th.expression.agg.name === 'count')) return;
      const from = raw.t - th.lookbackS;
      const view =
        th.expression.agg.name === 'count'
          ? cumulative
          : windowView(
              this.recent.filter((s) => s.t > from && (!during || secondInWindow(during, s.loadMs))),
            );
      const observed = observe(th, view, this.catalogue, this.scratch);
      const inDelay = raw.t < this.startT! + th.delayAbortEvalS;
      if (observed !== null) {
        const pass = compare(observed, th.expression.op, th.expression.value);
        if (pass) state.failedSince = null;
        else if (state.failedSince === null && !inDelay) state.failedSince = raw.t;
        state.result = resultOf(th, observed, pass);
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
