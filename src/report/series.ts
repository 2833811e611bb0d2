// From the per-second samples to the report's charts: a streaming collector keeps only the series
// the charts use (bounded in number), then charts group them by label, keep the top few, and thin
// them to at most MAX_POINTS buckets so a long, large run still gives a small report.

import type { SecondSample } from '../metrics/aggregator.js';
import { cleanLabelValue, type Labels, parseSeriesKey } from '../metrics/labels.js';
import { type BucketAgg, buckets, downsample } from './downsample.js';
import type { CapacitySection } from './types.js';

export const MAX_POINTS = 1500;
/**
 * Distinct label combinations kept per metric and field; past it, new ones are counted and
 * skipped (per metric, so a flood of RPC method names cannot crowd out the device counts).
 */
export const MAX_SERIES_PER_METRIC = 64;
/** Series per chart; the rest are summed into "other" (counts) or left out (latencies). */
export const MAX_SERIES_PER_CHART = 8;

export type ChartSection = 'capacity' | 'load' | 'generator';

export interface ChartSeries {
  label: string;
  /** line (default), step (held level), points (markers only). */
  style?: 'line' | 'step' | 'points';
  color?: string;
}

export interface Chart {
  id: string;
  section: ChartSection;
  title: string;
  unit: string;
  series: ChartSeries[];
  /** uPlot's layout: [x (epoch s), ...one array per series]. */
  data: Array<Array<number | null>>;
}

type Field = 'value' | 'p50' | 'p95' | 'p99' | 'mean' | 'min' | 'count';

const COUNTERS = new Set([
  'logins',
  'rpc_errors',
  'disconnects',
  'alarms',
  'segments_created',
  'uploads_failed',
  'segments_dropped',
  'bytes_sent',
  'publishes',
  'viewer_stalls',
  'viewer_bytes',
  'viewer_failures',
  'http_requests',
]);
const GAUGES = new Set([
  'devices',
  'devices_target',
  'streams_live',
  'recordings_live',
  'cpu_percent',
  'rss_bytes',
  'heap_used_bytes',
  'viewers_playing',
]);
const HISTOGRAM_FIELDS: Record<string, readonly Exclude<Field, 'value'>[]> = {
  keepalive_rtt: ['p50', 'p95', 'p99'],
  login_duration: ['p99'],
  rpc_duration: ['p99', 'count'],
  eventloop_delay: ['p99'],
  bitrate_achieved_ratio: ['mean', 'min'],
  segment_upload_duration: ['count'],
  viewer_delay: ['p50', 'p99'],
  viewer_ttff: ['p95'],
  http_duration: ['p50', 'p99'],
};

/** Whole-run figures of one histogram rebuilt from seconds (used when there is no summary.json). */
export interface SecondsHistogram {
  count: number;
  min: number;
  max: number;
  mean: number;
  worstP99: number;
}

interface RawSeries {
  kind: 'c' | 'g' | 'h';
  name: string;
  labels: Labels;
  field: Field;
  values: number[];
}

export class SeriesCollector {
  readonly t: number[] = [];
  readonly counterTotals = new Map<string, number>();
  private readonly histTotals = new Map<
    string,
    { count: number; sum: number; min: number; max: number; worstP99: number }
  >();
  private readonly raw = new Map<string, RawSeries>();
  private readonly perMetric = new Map<string, number>();
  private readonly skipped = new Set<string>();

  /** Series the cap left out (label cardinality too high for one report). */
  get skippedSeries(): number {
    return this.skipped.size;
  }

  add(s: SecondSample): void {
    const i = this.t.length;
    this.t.push(s.t);
    for (const key in s.counters) {
      const v = s.counters[key]!;
      this.counterTotals.set(key, (this.counterTotals.get(key) ?? 0) + v);
      const p = parseSeriesKey(key);
      if (COUNTERS.has(p.name)) this.set('c', key, 'value', i, v);
    }
    for (const key in s.gauges) {
      if (GAUGES.has(parseSeriesKey(key).name)) this.set('g', key, 'value', i, s.gauges[key]!);
    }
    for (const key in s.histograms) {
      const h = s.histograms[key]!;
      let tot = this.histTotals.get(key);
      if (!tot) {
        tot = { count: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, worstP99: 0 };
        this.histTotals.set(key, tot);
      }
      tot.count += h.count;
      tot.sum += h.mean * h.count;
      tot.min = Math.min(tot.min, h.min);
      tot.max = Math.max(tot.max, h.max);
      tot.worstP99 = Math.max(tot.worstP99, h.p99);
      const fields = HISTOGRAM_FIELDS[parseSeriesKey(key).name];
      if (fields) for (const f of fields) this.set('h', key, f, i, h[f]);
    }
  }

  histogramTotals(): Map<string, SecondsHistogram> {
    const out = new Map<string, SecondsHistogram>();
    for (const [k, v] of this.histTotals) {
      if (v.count > 0)
        out.set(k, { count: v.count, min: v.min, max: v.max, mean: v.sum / v.count, worstP99: v.worstP99 });
    }
    return out;
  }

  private set(kind: RawSeries['kind'], key: string, field: Field, i: number, v: number): void {
    const id = `${kind}|${key}|${field}`;
    let r = this.raw.get(id);
    if (!r) {
      const p = parseSeriesKey(key);
      const metric = `${kind}|${p.name}|${field}`;
      const n = this.perMetric.get(metric) ?? 0;
      if (n >= MAX_SERIES_PER_METRIC) {
        if (this.skipped.size < 100_000) this.skipped.add(id);
        return;
      }
      this.perMetric.set(metric, n + 1);
      r = { kind, name: p.name, labels: p.labels, field, values: [] };
      this.raw.set(id, r);
    }
    while (r.values.length < i) r.values.push(Number.NaN);
    r.values[i] = typeof v === 'number' ? v : Number.NaN;
  }

  /**
   * Series of one metric and field, grouped by `by(labels)` (null drops the series) and summed
   * within a group. Counters and histogram counts read a missing second as 0, gauges and other
   * histogram fields as "no data".
   */
  group(
    kind: RawSeries['kind'],
    name: string,
    field: Field,
    by: (l: Labels) => string | null,
  ): Map<string, Float64Array> {
    const n = this.t.length;
    const out = new Map<string, Float64Array>();
    for (const r of this.raw.values()) {
      if (r.kind !== kind || r.name !== name || r.field !== field) continue;
      const g = by(r.labels);
      if (g === null) continue;
      let acc = out.get(g);
      if (!acc) {
        // A histogram's count is 0, not "no data", in a second without any sample.
        acc = new Float64Array(n).fill(kind === 'c' || field === 'count' ? 0 : Number.NaN);
        out.set(g, acc);
      }
      for (let i = 0; i < r.values.length; i++) {
        const v = r.values[i]!;
        if (Number.isNaN(v)) continue;
        acc[i] = Number.isNaN(acc[i]!) ? v : acc[i]! + v;
      }
    }
    return out;
  }

  one(kind: RawSeries['kind'], name: string, field: Field): Float64Array | null {
    return this.group(kind, name, field, () => '').get('') ?? null;
  }
}

/** Label values from a run directory are re-cleaned: the file may not come from ivtfarm itself. */
const lv = (v: string | undefined): string => cleanLabelValue(v ?? '-');

function total(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i]!)) s += a[i]!;
  return s;
}

function hasData(a: ArrayLike<number>, zeroIsData: boolean): boolean {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!Number.isNaN(v) && (zeroIsData || v !== 0)) return true;
  }
  return false;
}

/** Keeps the `max` biggest groups; the rest are summed into "other" when `other` is set. */
function top(groups: Map<string, Float64Array>, max: number, other: boolean): Array<[string, Float64Array]> {
  const sorted = [...groups].sort((a, b) => total(b[1]) - total(a[1]) || a[0].localeCompare(b[0]));
  if (sorted.length <= max) return sorted;
  const kept = sorted.slice(0, max - (other ? 1 : 0));
  if (other) {
    const rest = sorted.slice(kept.length);
    const sum = new Float64Array(rest[0]![1].length);
    for (const [, a] of rest) for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i]!)) sum[i]! += a[i]!;
    kept.push([`other (${rest.length})`, sum]);
  }
  return kept;
}

interface PendingSeries {
  label: string;
  values: ArrayLike<number>;
  agg: BucketAgg;
  style?: ChartSeries['style'];
  color?: string;
  /** Counters: a series of zeros is "no data". */
  zeroIsData?: boolean;
}

function scale(a: Float64Array | null, k: number): Float64Array | null {
  if (!a) return null;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * k;
  return out;
}

/** The run's time-series charts, each only when it has data. `media`: nominal bits/s per quality. */
export function buildCharts(c: SeriesCollector, media: Record<string, number> | null): Chart[] {
  const bs = buckets(c.t.length, MAX_POINTS);
  const x = bs.map(([from]) => c.t[from]!);
  const charts: Chart[] = [];
  const add = (section: ChartSection, id: string, title: string, unit: string, series: PendingSeries[]) => {
    const kept = series.filter((s) => hasData(s.values, s.zeroIsData ?? false));
    if (kept.length === 0) return;
    charts.push({
      id,
      section,
      title,
      unit,
      series: kept.map((s) => ({
        label: s.label,
        ...(s.style ? { style: s.style } : {}),
        ...(s.color ? { color: s.color } : {}),
      })),
      data: [x, ...kept.map((s) => downsample(s.values, bs, s.agg))],
    });
  };
  const mean = (
    label: string,
    values: Float64Array | null,
    extra: Partial<PendingSeries> = {},
  ): PendingSeries[] => (values ? [{ label, values, agg: 'mean', ...extra }] : []);
  const many = (groups: Array<[string, Float64Array]>, agg: BucketAgg = 'mean'): PendingSeries[] =>
    groups.map(([label, values]) => ({ label, values, agg }));

  // ---- load and platform behaviour
  const states = c.group('g', 'devices', 'value', (l) => lv(l.state));
  add('load', 'devices', 'Devices online vs target', 'devices', [
    ...mean('online', states.get('online') ?? null, { zeroIsData: true }),
    ...mean('target', c.one('g', 'devices_target', 'value'), { zeroIsData: true, color: '#888' }),
    ...many(top(new Map([...states].filter(([k]) => k !== 'online')), MAX_SERIES_PER_CHART - 2, true)),
  ]);
  const logins = c.group('c', 'logins', 'value', (l) =>
    l.result === 'ok' ? 'ok' : `${lv(l.result)} ${lv(l.reason)}`,
  );
  add(
    'load',
    'logins',
    'Logins per second and failures',
    '/s',
    many(top(logins, MAX_SERIES_PER_CHART, true)),
  );
  add('load', 'keepalive', 'Keepalive round trip', 'ms', [
    ...mean('p50', c.one('h', 'keepalive_rtt', 'p50')),
    { label: 'p95', values: c.one('h', 'keepalive_rtt', 'p95') ?? [], agg: 'max' },
    { label: 'p99', values: c.one('h', 'keepalive_rtt', 'p99') ?? [], agg: 'max' },
  ]);
  const rpcLabel = (l: Labels) =>
    `${lv(l.method)} ${l.direction === 'from_ivc' ? '(IVC→device)' : '(device→IVC)'}`;
  const rpcCounts = c.group('h', 'rpc_duration', 'count', rpcLabel);
  const rpcP99 = c.group('h', 'rpc_duration', 'p99', rpcLabel);
  const busiest = [...rpcCounts].sort((a, b) => total(b[1]) - total(a[1])).slice(0, MAX_SERIES_PER_CHART);
  add(
    'load',
    'rpc-p99',
    `RPC latency p99 per method${rpcCounts.size > busiest.length ? ` (busiest ${busiest.length} of ${rpcCounts.size})` : ''}`,
    'ms',
    busiest.map(([label]) => ({ label, values: rpcP99.get(label) ?? [], agg: 'max' as const })),
  );
  const httpStatus = c.group('c', 'http_requests', 'value', (l) => `${lv(l.load)} ${lv(l.status)}`);
  if (httpStatus.size > 0) {
    add(
      'load',
      'http-requests',
      'HTTP load: requests per second by status',
      '/s',
      many(top(httpStatus, MAX_SERIES_PER_CHART, true)),
    );
    const httpP99 = c.group('h', 'http_duration', 'p99', (l) => `${lv(l.load)} p99`);
    const httpP50 = c.group('h', 'http_duration', 'p50', (l) => `${lv(l.load)} p50`);
    add('load', 'http-latency', 'HTTP load: latency', 'ms', [
      ...[...httpP50]
        .slice(0, MAX_SERIES_PER_CHART / 2)
        .map(([label, values]) => ({ label, values, agg: 'max' as const })),
      ...[...httpP99]
        .slice(0, MAX_SERIES_PER_CHART / 2)
        .map(([label, values]) => ({ label, values, agg: 'max' as const })),
    ]);
  }
  add('load', 'streams', 'Streams and recordings live', 'streams', [
    ...many(
      top(
        c.group('g', 'streams_live', 'value', (l) => `streams ${lv(l.quality)}`),
        MAX_SERIES_PER_CHART - 1,
        true,
      ),
    ),
    ...mean('recordings', c.one('g', 'recordings_live', 'value')),
  ]);
  const rtmpBytes =
    c.group('c', 'bytes_sent', 'value', (l) => (l.kind === 'rtmp' ? 'rtmp' : null)).get('rtmp') ?? null;
  let targetBits: Float64Array | null = null;
  if (media) {
    const byQuality = c.group('g', 'streams_live', 'value', (l) => l.quality ?? null);
    for (const [q, live] of byQuality) {
      const rate = media[q];
      if (typeof rate !== 'number') continue;
      targetBits ??= new Float64Array(c.t.length);
      for (let i = 0; i < live.length; i++)
        if (!Number.isNaN(live[i]!)) targetBits[i]! += (live[i]! * rate) / 1e6;
    }
  }
  add('load', 'bitrate', 'RTMP bitrate: achieved vs target', 'Mbit/s', [
    ...mean('achieved', scale(rtmpBytes, 8 / 1e6)),
    ...mean('target (streams × nominal)', targetBits, { color: '#888' }),
  ]);
  const ratioSeries: PendingSeries[] = [];
  for (const [q, v] of c.group('h', 'bitrate_achieved_ratio', 'mean', (l) => lv(l.quality)))
    ratioSeries.push({ label: `${q} mean`, values: v, agg: 'mean' });
  for (const [q, v] of c.group('h', 'bitrate_achieved_ratio', 'min', (l) => lv(l.quality)))
    ratioSeries.push({ label: `${q} worst stream`, values: v, agg: 'mean' });
  add(
    'load',
    'bitrate-ratio',
    'Achieved / nominal bitrate per stream (1 = on time)',
    'ratio',
    ratioSeries.slice(0, MAX_SERIES_PER_CHART),
  );
  viewerCharts(c, add);
  add('load', 'segments', 'Recording segments per second', '/s', [
    ...mean('created', c.one('c', 'segments_created', 'value')),
    ...mean('uploaded', c.one('h', 'segment_upload_duration', 'count')),
    ...mean('upload failed', c.one('c', 'uploads_failed', 'value')),
    ...mean('dropped (queue full)', c.one('c', 'segments_dropped', 'value')),
  ]);
  add(
    'load',
    'alarms',
    'Alarms per second',
    '/s',
    many(
      top(
        c.group('c', 'alarms', 'value', (l) => lv(l.type)),
        MAX_SERIES_PER_CHART,
        true,
      ),
    ),
  );
  add(
    'load',
    'rpc-errors',
    'RPC errors per second by method and code',
    '/s',
    many(
      top(
        c.group('c', 'rpc_errors', 'value', (l) => `${lv(l.method)} ${lv(l.code)}`),
        MAX_SERIES_PER_CHART,
        true,
      ),
    ),
  );
  add(
    'load',
    'disconnects',
    'Disconnects per second by reason',
    '/s',
    many(
      top(
        c.group('c', 'disconnects', 'value', (l) => lv(l.reason)),
        MAX_SERIES_PER_CHART,
        true,
      ),
    ),
  );

  // ---- the generator's own health
  add(
    'generator',
    'eventloop',
    'Event-loop delay p99 per thread',
    'ms',
    many(
      top(
        c.group('h', 'eventloop_delay', 'p99', (l) => `thread ${lv(l.worker)}`),
        MAX_SERIES_PER_CHART,
        false,
      ),
      'max',
    ),
  );
  add(
    'generator',
    'cpu',
    'CPU per thread (event-loop utilisation) and process',
    '%',
    many(
      top(
        c.group('g', 'cpu_percent', 'value', (l) =>
          l.worker === 'process' ? 'process' : `thread ${lv(l.worker)}`,
        ),
        MAX_SERIES_PER_CHART,
        false,
      ),
    ),
  );
  add('generator', 'memory', 'Memory', 'MB', [
    ...mean('RSS', scale(c.one('g', 'rss_bytes', 'value'), 1 / 1e6)),
    ...mean('JS heap, all threads', scale(c.one('g', 'heap_used_bytes', 'value'), 1 / 1e6)),
  ]);
  return charts;
}

type AddChart = (
  section: ChartSection,
  id: string,
  title: string,
  unit: string,
  series: PendingSeries[],
) => void;

/** What the players of `viewers:` saw, per protocol (the `kind` label): delay, stalls, players, bitrate. */
function viewerCharts(c: SeriesCollector, add: AddChart): void {
  const kind = (l: Labels) => lv(l.kind);
  const delay: PendingSeries[] = [];
  for (const [k, v] of c.group('h', 'viewer_delay', 'p50', kind))
    delay.push({ label: `${k} p50`, values: v, agg: 'mean' });
  for (const [k, v] of c.group('h', 'viewer_delay', 'p99', kind))
    delay.push({ label: `${k} p99`, values: v, agg: 'max' });
  add('load', 'viewer-delay', 'Viewers: end-to-end delay (receive time − clock in the stream)', 'ms', delay);
  const stalls: PendingSeries[] = [];
  for (const [k, v] of c.group('c', 'viewer_stalls', 'value', kind))
    stalls.push({ label: `${k} stalls`, values: v, agg: 'mean', zeroIsData: true });
  for (const [k, v] of c.group('c', 'viewer_failures', 'value', kind))
    stalls.push({ label: `${k} failures`, values: v, agg: 'mean' });
  add('load', 'viewer-stalls', 'Viewers: stalls and failed players per second', '/s', stalls);
  add('load', 'viewer-ttff', 'Viewers: time to first frame p95 of the players started', 'ms', [
    ...[...c.group('h', 'viewer_ttff', 'p95', kind)].map(([k, v]) => ({
      label: k,
      values: v,
      agg: 'max' as const,
    })),
  ]);
  const playing = c.group('g', 'viewers_playing', 'value', kind);
  const received = c.group('c', 'viewer_bytes', 'value', kind);
  add('load', 'viewers', 'Viewers playing and received Mbit/s per protocol', 'players · Mbit/s', [
    ...[...playing].map(([k, v]) => ({
      label: `${k} playing`,
      values: v,
      agg: 'mean' as const,
      zeroIsData: true,
    })),
    ...[...received].map(([k, v]) => ({
      label: `${k} Mbit/s`,
      values: scale(v, 8 / 1e6) ?? v,
      agg: 'mean' as const,
    })),
  ]);
}

/** The limit search's load level over time, held steps green and broken ones red. */
export function capacityChart(cap: CapacitySection): Chart | null {
  const steps = cap.steps
    .flatMap((s) => {
      const from = s.ramp?.from ?? s.hold?.from;
      const to = s.hold?.to ?? s.ramp?.to;
      return from !== undefined && to !== undefined ? [{ ...s, from, to }] : [];
    })
    .sort((a, b) => a.from - b.from);
  if (steps.length === 0) return null;
  const x: number[] = [];
  const level: Array<number | null> = [];
  const held: Array<number | null> = [];
  const broken: Array<number | null> = [];
  for (const s of steps) {
    const mid = (s.from + s.to) / 2;
    x.push(s.from, mid);
    level.push(s.level, s.level);
    held.push(null, s.held ? s.level : null);
    broken.push(null, s.held ? null : s.level);
  }
  const last = steps[steps.length - 1]!;
  x.push(last.to);
  level.push(last.level);
  held.push(null);
  broken.push(null);
  return {
    id: 'capacity',
    section: 'capacity',
    title: `Load level per step (${cap.unit})`,
    unit: cap.unit,
    series: [
      { label: 'level', style: 'step', color: '#555' },
      { label: 'held', style: 'points', color: '#1a7f37' },
      { label: 'broken', style: 'points', color: '#cf222e' },
    ],
    data: [x, level, held, broken],
  };
}
