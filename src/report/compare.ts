// Baseline comparison: a new run's summary against a stored one. Flags what got worse beyond a
// tolerance (capacity, p99 latencies, error rates, failure kinds never seen before) and what got
// better. Rates, not raw counts, are compared so runs of different length stay comparable.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FAULT_DISCONNECT_REASONS } from '../core/disconnect-reasons.js';
import { SUMMARY_SCHEMA } from '../core/summary-types.js';
import { parseSeriesKey } from '../metrics/labels.js';
import { ExitCode } from '../run/exit-codes.js';
import type { ReportSummary } from './types.js';

/** Exit code of `ivtfarm compare` / `ivtfarm run --baseline` when a regression is found. */
export const EXIT_BASELINE_REGRESSION = ExitCode.BaselineRegression;

export interface LatencyTolerance {
  /** p99 higher than the base by more than this percentage… */
  increase_pct: number;
  /** …and by more than this many ms (so 1 ms → 2 ms is noise, not a regression). */
  floor_ms: number;
}

export interface Tolerances {
  /** Capacity lower than the base by more than this percentage is a regression. */
  capacity_drop_pct: number;
  latency: LatencyTolerance;
  /** Per histogram name (e.g. keepalive_rtt, rpc_duration): overrides of `latency`. */
  latency_overrides: Record<string, Partial<LatencyTolerance>>;
  /** Histograms with fewer samples than this in either run are not compared. */
  min_samples: number;
  /** Histogram names whose p99 is compared (every label combination of each). */
  latency_metrics: string[];
  /** An error rate must rise by more than this absolute amount (0.001 = 0.1 percentage points)… */
  error_rate_floor: number;
  /** …and by more than this percentage of the base rate (ignored when the base rate is 0). */
  error_rate_increase_pct: number;
  /** Disconnect reasons that appearing for the first time is a regression (all but the farm's own). */
  ignore_disconnect_reasons: string[];
}

export const DEFAULT_TOLERANCES: Tolerances = {
  capacity_drop_pct: 5,
  latency: { increase_pct: 20, floor_ms: 5 },
  latency_overrides: {},
  min_samples: 20,
  latency_metrics: [
    'login_duration',
    'keepalive_rtt',
    'rpc_duration',
    'publish_start_duration',
    'segment_create_duration',
    'segment_upload_duration',
    'alarm_rtt',
    'alarm_picture_upload_duration',
    'http_duration',
  ],
  error_rate_floor: 0.001,
  error_rate_increase_pct: 50,
  ignore_disconnect_reasons: ['shutdown', 'scenario'],
};

export type Flag = 'regression' | 'improvement' | 'ok';

export interface ComparisonRow {
  kind: 'capacity' | 'latency' | 'error_rate' | 'new_failure';
  /** What is compared, e.g. `keepalive_rtt p99`, `rpc_errors / rpcs`. */
  name: string;
  unit: string;
  base: number | null;
  next: number | null;
  /** (next − base) / base × 100; null when base is 0 or missing. */
  delta_pct: number | null;
  flag: Flag;
  note: string;
}

export interface RunRef {
  name: string;
  started_at: string;
  verdict: string;
}

export interface Comparison {
  schema: 'ivtfarm.comparison/1';
  base: RunRef;
  next: RunRef;
  tolerances: Tolerances;
  rows: ComparisonRow[];
  /** Why the two runs may not be comparable (different scenario, load, or machine). */
  warnings: string[];
  regressions: number;
  improvements: number;
}

export class BaselineError extends Error {
  override name = 'BaselineError';
}

/** A summary.json, or a run directory holding one; refuses other files with a clear message. */
export function readRunSummary(pathOrDir: string): ReportSummary {
  let file = pathOrDir;
  try {
    if (statSync(pathOrDir).isDirectory()) file = join(pathOrDir, 'summary.json');
  } catch {
    throw new BaselineError(`${pathOrDir}: no such file or directory`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BaselineError(
      code === 'ENOENT' ? `${file}: no summary (the run did not finish)` : `${file}: not valid JSON`,
    );
  }
  const schema = (parsed as { schema?: unknown } | null)?.schema;
  if (schema !== SUMMARY_SCHEMA)
    throw new BaselineError(
      `${file}: not an ivtfarm summary (schema ${JSON.stringify(schema)}, want ${SUMMARY_SCHEMA})`,
    );
  return parsed as ReportSummary;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function num(where: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
    throw new BaselineError(`${where}: want a number ≥ 0`);
  return x;
}

function strings(where: string, x: unknown): string[] {
  if (!Array.isArray(x) || !x.every((s) => typeof s === 'string'))
    throw new BaselineError(`${where}: want a list of names`);
  return x as string[];
}

function latencyTolerance(where: string, x: unknown): Partial<LatencyTolerance> {
  if (!isObject(x)) throw new BaselineError(`${where}: want { increase_pct, floor_ms }`);
  const out: Partial<LatencyTolerance> = {};
  for (const [k, v] of Object.entries(x)) {
    if (k === 'increase_pct' || k === 'floor_ms') out[k] = num(`${where}.${k}`, v);
    else throw new BaselineError(`${where}: unknown key ${JSON.stringify(k)} (increase_pct, floor_ms)`);
  }
  return out;
}

/** Tolerances from a parsed YAML/JSON object: missing keys take the defaults, unknown keys are errors. */
export function parseTolerances(input: unknown, where = 'tolerances'): Tolerances {
  const t: Tolerances = structuredClone(DEFAULT_TOLERANCES);
  if (input === null || input === undefined) return t;
  if (!isObject(input)) throw new BaselineError(`${where}: want a mapping`);
  for (const [k, v] of Object.entries(input)) {
    const at = `${where}.${k}`;
    switch (k) {
      case 'capacity_drop_pct':
      case 'min_samples':
      case 'error_rate_floor':
      case 'error_rate_increase_pct':
        t[k] = num(at, v);
        break;
      case 'latency':
        t.latency = { ...t.latency, ...latencyTolerance(at, v) };
        break;
      case 'latency_overrides':
        if (!isObject(v)) throw new BaselineError(`${at}: want a mapping of histogram name → tolerance`);
        for (const [name, o] of Object.entries(v))
          t.latency_overrides[name] = latencyTolerance(`${at}.${name}`, o);
        break;
      case 'latency_metrics':
      case 'ignore_disconnect_reasons':
        t[k] = strings(at, v);
        break;
      default:
        throw new BaselineError(`${at}: unknown key (see docs/ci.md)`);
    }
  }
  return t;
}

/** Reads a tolerances file (YAML or JSON). */
export function loadTolerances(file: string): Tolerances {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new BaselineError(`${file}: cannot read the tolerances file`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch {
    throw new BaselineError(`${file}: not valid YAML/JSON`);
  }
  return parseTolerances(parsed, file);
}

function deltaPct(base: number | null, next: number | null): number | null {
  if (base === null || next === null || base === 0) return null;
  return ((next - base) / base) * 100;
}

/** Sum of a counter's series whose labels pass `keep`. */
function counterSum(
  s: ReportSummary,
  name: string,
  keep: (labels: Record<string, string>) => boolean = () => true,
): number {
  let n = 0;
  for (const [key, v] of Object.entries(s.metrics.counters)) {
    const p = parseSeriesKey(key);
    if (p.name === name && keep(p.labels as Record<string, string>)) n += v;
  }
  return n;
}

interface RateDef {
  name: string;
  errors: (s: ReportSummary) => number;
  attempts: (s: ReportSummary) => number;
}

const RATES: readonly RateDef[] = [
  {
    name: 'failed logins / logins',
    errors: (s) => counterSum(s, 'logins', (l) => l.result !== 'ok'),
    attempts: (s) => counterSum(s, 'logins'),
  },
  {
    name: 'rpc_errors / rpcs',
    errors: (s) => counterSum(s, 'rpc_errors'),
    attempts: (s) => counterSum(s, 'rpcs') + counterSum(s, 'rpc_errors'),
  },
  {
    name: 'fault disconnects / sessions',
    errors: (s) => counterSum(s, 'disconnects', (l) => FAULT_DISCONNECT_REASONS.has(l.reason ?? '')),
    attempts: (s) => counterSum(s, 'logins', (l) => l.result === 'ok'),
  },
  {
    name: 'failed publishes / publishes',
    errors: (s) => counterSum(s, 'publishes', (l) => l.result !== 'ok'),
    attempts: (s) => counterSum(s, 'publishes'),
  },
  {
    name: 'uploads_failed / segments',
    errors: (s) => counterSum(s, 'uploads_failed'),
    attempts: (s) => counterSum(s, 'segments_created'),
  },
  {
    name: 'segments_dropped / segments',
    errors: (s) => counterSum(s, 'segments_dropped'),
    attempts: (s) => counterSum(s, 'segments_created'),
  },
];

function compareCapacity(base: ReportSummary, next: ReportSummary, t: Tolerances): ComparisonRow[] {
  const b = base.capacity;
  const n = next.capacity;
  if (!b || !n) return [];
  const row: ComparisonRow = {
    kind: 'capacity',
    name: `capacity (${n.mode})`,
    unit: n.unit,
    base: b.capacity,
    next: n.capacity,
    delta_pct: deltaPct(b.capacity, n.capacity),
    flag: 'ok',
    note: '',
  };
  if (b.mode !== n.mode || b.unit !== n.unit) {
    row.note = `not comparable: base measured ${b.unit}, new ${n.unit}`;
    return [row];
  }
  const bc = b.capacity ?? 0;
  const nc = n.capacity ?? 0;
  if (nc < bc * (1 - t.capacity_drop_pct / 100)) {
    row.flag = 'regression';
    row.note = n.first_broken ? `${n.first_broken} broke first at ${n.broke_at}` : '';
  } else if (nc > bc * (1 + t.capacity_drop_pct / 100)) {
    row.flag = 'improvement';
  }
  // A generator-bound result only says "at least": a rise is real, a fall may be the farm's.
  if (n.lower_bound || b.lower_bound) {
    const which = n.lower_bound ? 'new' : 'base';
    row.note = `${row.note ? `${row.note}; ` : ''}${which} run is a lower bound (generator saturated)`;
  }
  return [row];
}

function compareLatencies(base: ReportSummary, next: ReportSummary, t: Tolerances): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const wanted = new Set(t.latency_metrics);
  const keys = Object.keys(next.metrics.histograms)
    .filter((k) => wanted.has(parseSeriesKey(k).name) && base.metrics.histograms[k])
    .sort();
  for (const key of keys) {
    const b = base.metrics.histograms[key]!;
    const n = next.metrics.histograms[key]!;
    if (b.count < t.min_samples || n.count < t.min_samples) continue;
    const tol = { ...t.latency, ...t.latency_overrides[parseSeriesKey(key).name] };
    const diff = n.p99 - b.p99;
    const pct = deltaPct(b.p99, n.p99);
    let flag: Flag = 'ok';
    if (diff > tol.floor_ms && (pct === null || pct > tol.increase_pct)) flag = 'regression';
    else if (-diff > tol.floor_ms && pct !== null && -pct > tol.increase_pct) flag = 'improvement';
    rows.push({
      kind: 'latency',
      name: `${key} p99`,
      unit: 'ms',
      base: b.p99,
      next: n.p99,
      delta_pct: pct,
      flag,
      note: flag === 'ok' ? '' : `p50 ${b.p50} → ${n.p50} ms`,
    });
  }
  return rows;
}

function compareRates(base: ReportSummary, next: ReportSummary, t: Tolerances): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  for (const r of RATES) {
    const ba = r.attempts(base);
    const na = r.attempts(next);
    if (ba === 0 && na === 0) continue;
    const br = ba > 0 ? r.errors(base) / ba : 0;
    const nr = na > 0 ? r.errors(next) / na : 0;
    const diff = nr - br;
    const pct = deltaPct(br, nr);
    const beyond = (d: number, p: number | null) =>
      d > t.error_rate_floor && (p === null || p > t.error_rate_increase_pct);
    const flag: Flag = beyond(diff, pct)
      ? 'regression'
      : beyond(-diff, pct === null ? null : -pct)
        ? 'improvement'
        : 'ok';
    rows.push({
      kind: 'error_rate',
      name: r.name,
      unit: 'ratio',
      base: br,
      next: nr,
      delta_pct: pct,
      flag,
      note: `${r.errors(base)}/${ba} → ${r.errors(next)}/${na}`,
    });
  }
  return rows;
}

/** Failure kinds the base never saw: a disconnect reason, an RPC error code for a method, a login refusal reason. */
function compareNewFailures(base: ReportSummary, next: ReportSummary, t: Tolerances): ComparisonRow[] {
  const ignore = new Set(t.ignore_disconnect_reasons);
  const kinds = (s: ReportSummary): Map<string, number> => {
    const out = new Map<string, number>();
    for (const [key, v] of Object.entries(s.metrics.counters)) {
      if (v <= 0) continue;
      const { name, labels } = parseSeriesKey(key);
      let k: string | null = null;
      if (name === 'disconnects' && !ignore.has(labels.reason ?? ''))
        k = `disconnect reason ${labels.reason}`;
      else if (name === 'rpc_errors') k = `rpc error ${labels.method} code ${labels.code}`;
      else if (name === 'logins' && labels.result !== 'ok') k = `login ${labels.result} ${labels.reason}`;
      if (k) out.set(k, (out.get(k) ?? 0) + v);
    }
    return out;
  };
  const b = kinds(base);
  const rows: ComparisonRow[] = [];
  for (const [k, n] of [...kinds(next)].sort(([x], [y]) => x.localeCompare(y))) {
    if (b.has(k)) continue;
    rows.push({
      kind: 'new_failure',
      name: k,
      unit: 'count',
      base: 0,
      next: n,
      delta_pct: null,
      flag: 'regression',
      note: 'not seen in the base run',
    });
  }
  return rows;
}

/** Differences that make a comparison doubtful: said, not fatal (a renamed scenario is still comparable). */
function comparability(base: ReportSummary, next: ReportSummary): string[] {
  const w: string[] = [];
  if (base.run.name !== next.run.name) w.push(`different scenarios: ${base.run.name} vs ${next.run.name}`);
  if (base.devices.planned !== next.devices.planned)
    w.push(`different device counts: ${base.devices.planned} vs ${next.devices.planned}`);
  if (base.environment.cores !== next.environment.cores)
    w.push(`different generator machines: ${base.environment.cores} vs ${next.environment.cores} cores`);
  if (base.target.kind !== next.target.kind)
    w.push(`different targets: ${base.target.kind} vs ${next.target.kind}`);
  if (base.run.verdict === 'interrupted' || next.run.verdict === 'interrupted')
    w.push('an interrupted run is part of the comparison');
  return w;
}

const ref = (s: ReportSummary): RunRef => ({
  name: s.run.name,
  started_at: s.run.started_at,
  verdict: s.run.verdict,
});

export function compareRuns(
  base: ReportSummary,
  next: ReportSummary,
  tolerances: Tolerances = DEFAULT_TOLERANCES,
): Comparison {
  const rows = [
    ...compareCapacity(base, next, tolerances),
    ...compareLatencies(base, next, tolerances),
    ...compareRates(base, next, tolerances),
    ...compareNewFailures(base, next, tolerances),
  ];
  return {
    schema: 'ivtfarm.comparison/1',
    base: ref(base),
    next: ref(next),
    tolerances,
    rows,
    warnings: comparability(base, next),
    regressions: rows.filter((r) => r.flag === 'regression').length,
    improvements: rows.filter((r) => r.flag === 'improvement').length,
  };
}

export function comparisonExitCode(c: Comparison): number {
  return c.regressions > 0 ? EXIT_BASELINE_REGRESSION : 0;
}

/** A value in the row's unit, for people. */
export function formatValue(v: number | null, unit: string): string {
  if (v === null) return '-';
  if (unit === 'ratio') return `${(v * 100).toPrecision(3)}%`;
  if (unit === 'ms') return `${v >= 100 ? v.toFixed(0) : v.toFixed(2)}ms`;
  return `${Number.isInteger(v) ? v : v.toFixed(2)}${unit === 'count' ? '' : ` ${unit}`}`;
}

export function formatDelta(pct: number | null): string {
  if (pct === null) return '';
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** Console lines: one header, then every regression and improvement. */
export function formatComparison(c: Comparison): string {
  const lines = [
    `  baseline ${c.base.name} (${c.base.started_at}): ${c.regressions} regression(s), ${c.improvements} improvement(s), ${c.rows.length - c.regressions - c.improvements} unchanged`,
  ];
  for (const w of c.warnings ?? []) lines.push(`    ! ${w}`);
  for (const r of c.rows) {
    if (r.flag === 'ok') continue;
    const mark = r.flag === 'regression' ? '✗ regression ' : '✓ improvement';
    const delta = formatDelta(r.delta_pct);
    lines.push(
      `    ${mark} ${r.name}  ${formatValue(r.base, r.unit)} → ${formatValue(r.next, r.unit)}${delta ? ` (${delta})` : ''}${r.note ? `  ${r.note}` : ''}`,
    );
  }
  return lines.join('\n');
}
