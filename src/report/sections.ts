// The report's server-rendered sections: verdict, thresholds, capacity, baseline, percentiles,
// errors, generator health, scenario and environment. All text goes through markup.ts/escape.ts.

import { DEFAULT_CATALOGUE } from '../metrics/catalogue.js';
import { parseSeriesKey } from '../metrics/labels.js';
import { parseExpression } from '../metrics/threshold-expr.js';
import { MASK } from '../scenario/secrets.js';
import { stepsTable } from './capacity-steps.js';
import { type Comparison, formatDelta, formatValue } from './compare.js';
import { byLabel, byLabels } from './counters.js';
import { esc } from './escape.js';
import { type Cell, isoSeconds, mark, num, p, raw, section, table } from './markup.js';
import { DEFAULT_PERCENTILES, percentileRows, requestedPercentiles } from './percentiles.js';
import type { SecondsHistogram } from './series.js';
import type { CapacitySection, ReportSummary } from './types.js';
import { capacitySentence, judgedExpression } from './types.js';

export interface SectionInput {
  dir: string;
  summary: ReportSummary | null;
  scenario: Record<string, unknown> | null;
  notes: string[];
  /** Whole-run counters: the summary's, else summed from the seconds. */
  counters: Record<string, number>;
  secondsHistograms: Map<string, SecondsHistogram>;
  firstSecond: number | null;
  lastSecond: number | null;
  comparison: Comparison | null;
  hasCharts: { capacity: boolean; load: boolean; generator: boolean };
}

const unitOf = (key: string): string => DEFAULT_CATALOGUE.get(parseSeriesKey(key).name)?.unit ?? '';

/** The scenario's `report.title`, else the run's name. */
export function reportTitle(s: ReportSummary | null, scenario: Record<string, unknown> | null): string {
  const title = (scenario?.report as { title?: unknown } | undefined)?.title;
  if (typeof title === 'string' && title.trim() !== '') return title;
  return s?.run.name ?? (typeof scenario?.name === 'string' ? scenario.name : 'run');
}

export function headerSection(i: SectionInput): string {
  const s = i.summary;
  const name = reportTitle(s, i.scenario);
  const verdict = s?.run.verdict ?? 'unknown';
  const label = { pass: 'PASSED', fail: 'FAILED', interrupted: 'INTERRUPTED', unknown: 'NO RESULT' }[verdict];
  const meta: string[] = [];
  if (s) {
    meta.push(
      `started ${s.run.started_at}`,
      `${s.run.duration_s} s`,
      `stop: ${s.run.stop_reason}`,
      `exit code ${s.run.exit_code}`,
    );
    meta.push(`${s.devices.planned} devices planned on ${s.devices.workers} worker(s)`);
    if (s.devices.shard !== '0/1') meta.push(`shard ${s.devices.shard}`);
    meta.push(`target ${s.target.kind === 'embedded' ? 'embedded reference IVC' : targetNames(s.target)}`);
    for (const [k, v] of Object.entries(s.run.tags ?? {})) meta.push(`${k}=${v}`);
    for (const m of s.devices.mix ?? [])
      if (Object.keys(m.tags).length > 0)
        meta.push(
          `${m.name}: ${Object.entries(m.tags)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        );
    for (const o of s.run.parameters?.overrides ?? [])
      meta.push(`--set ${o.path}=${JSON.stringify(o.value)}`);
  } else if (i.firstSecond !== null && i.lastSecond !== null) {
    meta.push(`seconds recorded ${isoSeconds(i.firstSecond)} → ${isoSeconds(i.lastSecond)}`);
  }
  const description =
    s?.run.description ?? (typeof i.scenario?.description === 'string' ? i.scenario.description : '');
  return `<header><h1>${esc(name)} <span class="badge ${esc(verdict)}">${esc(label)}</span></h1>${
    description ? p(description) : ''
  }<p class="meta">${esc(meta.join(' · '))}</p>${s?.run.stop_detail ? p(s.run.stop_detail, 'meta') : ''}${(s?.run.verdict === 'fail' ? (s.run.reasons ?? []) : []).map((r) => p(r, 'warn')).join('')}${i.notes
    .map((n) => p(n, 'note'))
    .join('')}${
    s?.generator.limited
      ? p(
          `The load generator itself was saturated (${s.generator.reasons.join('; ')}): latencies and capacity are a lower bound.`,
          'warn',
        )
      : ''
  }</header>`;
}

/** `rate` thresholds compare a share: their bound as a percentage (`< 1 %`), else null. */
function rateBound(expression: string): string | null {
  try {
    const e = parseExpression(expression);
    return e.agg.name === 'rate' ? `${e.op} ${num(100 * e.value)} %` : null;
  } catch {
    return null;
  }
}

export function thresholdsSection(i: SectionInput): string {
  const s = i.summary;
  if (!s)
    return section(
      'thresholds',
      'Thresholds',
      p('no summary: thresholds are evaluated at the end of a run', 'empty'),
    );
  const rows: Cell[][] = s.thresholds.map((t) => {
    const rate = rateBound(t.expression);
    if (rate === null)
      return [
        mark(t.ok),
        t.metric,
        judgedExpression(t),
        t.observed === null ? 'no data' : t.observed,
        unitOf(t.metric),
      ];
    return [
      mark(t.ok),
      t.metric,
      `${judgedExpression(t)} (${rate})`,
      t.observed === null ? 'no data' : `${num(100 * t.observed)} %`,
      'share',
    ];
  });
  let body = table(['result', 'metric', 'expression', 'observed', 'unit'], rows);
  if (s.aborted_by)
    body += p(`The run was stopped early by ${s.aborted_by.metric} ${s.aborted_by.expression}.`, 'warn');
  return section('thresholds', 'Thresholds', body);
}

export function capacitySection(cap: CapacitySection | null | undefined, hasChart: boolean): string {
  if (!cap) return '';
  let body = `<p class="sentence">${esc(capacitySentence(cap))}</p>`;
  if (cap.lower_bound)
    body += p(
      `Lower bound: the generator was saturated (${cap.lower_bound_reason ?? 'see generator health'}).`,
      'warn',
    );
  if (hasChart) body += '<div class="charts" id="charts-capacity"></div>';
  body += '<h3>Service levels</h3>';
  body += table(
    ['name', 'metric', 'expression', 'judged on'],
    cap.service_levels.map((l) => [l.name, l.metric, l.expression, l.window]),
  );
  body += '<h3>Steps</h3>';
  body += p(
    'Ramp and hold: the whole seconds judged, as time since the first step began. Each service level is judged on the window in brackets: [ramp+hold] for the logins (or publishes) the step started, [hold] for the rest.',
    'meta',
  );
  const steps = stepsTable(cap);
  body += table(
    steps.headers,
    steps.rows.map((r) => r.cells.map((c, i) => (i === 3 ? mark(r.result === 'held', c, c) : c))),
  );
  return section('capacity', 'Capacity', body);
}

export function baselineSection(c: Comparison | null): string {
  if (!c) return '';
  const head = p(
    `Against ${c.base.name} started ${c.base.started_at} (${c.base.verdict}): ${c.regressions} regression(s), ${c.improvements} improvement(s).`,
    c.regressions > 0 ? 'warn' : 'note',
  );
  const warnings = (c.warnings ?? []).map((w) => p(w, 'warn')).join('');
  const rows = [...c.rows]
    .sort((a, b) => rank(a.flag) - rank(b.flag))
    .map((r): Cell[] => [
      raw(`<span class="${esc(r.flag)}">${esc(r.flag)}</span>`),
      r.name,
      formatValue(r.base, r.unit),
      formatValue(r.next, r.unit),
      formatDelta(r.delta_pct),
      r.note,
    ]);
  const tol = c.tolerances;
  const foot = p(
    `Tolerances: capacity −${tol.capacity_drop_pct}%; p99 +${tol.latency.increase_pct}% and +${tol.latency.floor_ms} ms; error rates +${tol.error_rate_floor} and +${tol.error_rate_increase_pct}%; at least ${tol.min_samples} samples.`,
    'meta',
  );
  return section(
    'baseline',
    'Baseline comparison',
    head + warnings + table(['flag', 'check', 'base', 'new', 'delta', 'note'], rows) + foot,
  );
}

const rank = (f: string) => (f === 'regression' ? 0 : f === 'improvement' ? 1 : 2);

export function chartsSection(id: string, title: string, present: boolean): string {
  return section(
    id,
    title,
    present ? `<div class="charts" id="charts-${esc(id)}"></div>` : p('no time-series data', 'empty'),
  );
}

export function percentilesSection(i: SectionInput): string {
  if (i.summary) {
    let ps = requestedPercentiles(i.scenario);
    const rows = percentileRows(i.summary, ps);
    // Without exact totals only the four stored percentiles exist.
    if (rows[0] && rows[0].values.length !== ps.length) ps = [...DEFAULT_PERCENTILES];
    return section(
      'percentiles',
      'Percentiles (whole run)',
      table(
        ['series', 'unit', 'count', 'min', 'mean', ...ps.map((p) => `p${p}`), 'max'],
        rows.map((r): Cell[] => [r.key, unitOf(r.key), r.count, r.min, r.mean, ...r.values, r.max]),
      ),
    );
  }
  const rows = [...i.secondsHistograms]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, h]): Cell[] => [k, unitOf(k), h.count, h.min, h.mean, h.worstP99, h.max]);
  return section(
    'percentiles',
    'Percentiles (from the seconds recorded)',
    p(
      'Without summary.json the exact whole-run percentiles are unknown; "worst second p99" is the highest per-second p99.',
      'meta',
    ) + table(['series', 'unit', 'count', 'min', 'mean', 'worst second p99', 'max'], rows),
  );
}

export function errorsSection(i: SectionInput): string {
  const c = i.counters;
  const rpcs = new Map<string, number>();
  for (const [[m], n] of byLabels(c, 'rpcs', (l) => [l.method ?? '-'])) rpcs.set(m!, (rpcs.get(m!) ?? 0) + n);
  let body = '<div class="cols"><div><h3>RPC errors by method and code</h3>';
  body += table(
    ['method', 'code', 'count', 'share of calls'],
    byLabels(c, 'rpc_errors', (l) => [l.method ?? '-', l.code ?? '-']).map(([[m, code], n]) => {
      const calls = (rpcs.get(m!) ?? 0) + n;
      return [m, code, n, calls > 0 ? `${num((100 * n) / calls)}%` : null];
    }),
    50,
  );
  body += '</div><div><h3>Disconnects by reason</h3>';
  body += table(
    ['reason', 'count'],
    byLabels(c, 'disconnects', (l) => [l.reason ?? '-']).map(([[r], n]) => [r, n]),
  );
  body += '</div><div><h3>Logins by result and reason</h3>';
  body += table(
    ['result', 'reason', 'count'],
    byLabels(c, 'logins', (l) => [l.result ?? '-', l.reason ?? '-']).map(([[r, why], n]) => [r, why, n]),
  );
  body += '</div>';
  const publishes = byLabels(c, 'publishes', (l) => [l.result ?? '-', l.reason ?? '-', l.quality ?? '-']);
  if (publishes.length > 0) {
    body += '<div><h3>Publishes by result</h3>';
    body += table(
      ['result', 'reason', 'quality', 'count'],
      publishes.map(([[r, why, q], n]) => [r, why, q, n]),
    );
    body += '</div>';
  }
  const http = byLabels(c, 'http_requests', (l) => [l.load ?? '-', l.result ?? '-', l.status ?? '-']);
  if (http.length > 0) {
    body += '<div><h3>HTTP load: requests by status</h3>';
    body += table(
      ['load', 'result', 'status', 'count'],
      http.map(([[load, r, status], n]) => [load, r, status, n]),
      50,
    );
    body += '</div>';
  }
  // What devices refused or were told to do (the device observer's outcomes).
  const outcomes = (
    [
      ['firmware_checks', 'result'],
      ['events_rejected', 'event'],
      ['media_failures', 'kind'],
      ['faults_injected', 'type'],
    ] as const
  ).flatMap(([metric, label]) => byLabel(c, metric, label).map(([v, n]): Cell[] => [metric, v, n]));
  if (outcomes.length > 0) {
    body += '<div><h3>Device-side outcomes</h3>';
    body += table(['metric', 'label', 'count'], outcomes);
    body += '</div>';
  }
  const uploads = byLabels(c, 'uploads_failed', (l) => [l.reason ?? '-']);
  if (uploads.length > 0) {
    body += '<div><h3>Failed segment uploads</h3>';
    body += table(
      ['reason', 'count'],
      uploads.map(([[r], n]) => [r, n]),
    );
    body += '</div>';
  }
  const stats = i.summary?.platform?.stats ?? null;
  const counts = (key: string): Cell[][] => {
    const o = stats?.[key];
    if (typeof o !== 'object' || o === null) return [];
    return Object.entries(o as Record<string, unknown>).map(([k, v]): Cell[] => [
      k,
      typeof v === 'number' ? v : String(v),
    ]);
  };
  if (i.summary?.platform) {
    body += '<div><h3>Platform conformance violations</h3>';
    body += table(['violation', 'count'], counts('violations'));
    body += '</div>';
    // What real vendor firmware does too: not a fault of the device under test (unless strict).
    const quirks = counts('vendor_quirks');
    if (quirks.length > 0)
      body += `<div><h3>Vendor quirks (like the reference firmware)</h3>${table(['quirk', 'count'], quirks)}</div>`;
  }
  body += '</div>';
  const pf = i.summary?.platform;
  if (pf && (pf.publishes || pf.records || Object.keys(pf.events).length > 0)) {
    const rows: Cell[][] = [];
    for (const [what, o] of [
      ['publishes', pf.publishes],
      ['recordings', pf.records],
    ] as const) {
      if (o)
        rows.push([
          what,
          o.ordered,
          o.ok,
          Object.entries(o.failed)
            .map(([k, n]) => `${k} ${n}`)
            .join(', '),
        ]);
    }
    body += '<h3>What the platform ordered</h3>';
    body += table(['order', 'ordered', 'ok', 'failed'], rows);
    const got = pf.received;
    const pushed = got?.streams.pushed ?? 0;
    if (got && (got.streams.ordered + pushed > 0 || (got.recordings?.ordered ?? 0) > 0)) {
      const st = got.streams;
      const r = got.recordings;
      body +=
        st.judged_at === 'sender'
          ? '<h3>What the platform accepted (seen by the sending devices)</h3>'
          : '<h3>What the platform received</h3>';
      body += table(
        [
          'what',
          'ordered',
          'pushed by devices',
          'received',
          'judged',
          'within ±10 % of bitrate',
          'received / target',
          'with violations',
        ],
        st.ordered + pushed > 0
          ? [
              [
                'streams',
                st.ordered,
                pushed,
                st.received,
                st.judged,
                st.within_10pct,
                st.ratio_min === null ? null : `${num(st.ratio_min)} – ${num(st.ratio_max ?? st.ratio_min)}`,
                st.with_violations,
              ],
            ]
          : [],
      );
      if (r && r.ordered > 0) {
        body += table(
          ['recordings', 'ordered', 'with segments', 'segments', 'bytes', 'failed uploads', 'saved'],
          [['recordings', r.ordered, r.with_segments, r.segments, r.bytes, r.fails, r.saved]],
        );
      }
    }
    const events = Object.entries(pf.events);
    if (events.length > 0)
      body += table(
        ['event sent', 'devices'],
        events.map(([k, n]) => [k, n]),
      );
  }
  return section('errors', 'Errors', body);
}

export function generatorSection(i: SectionInput): string {
  const s = i.summary;
  let body = '';
  if (s) {
    const g = s.generator;
    body += g.limited
      ? p(
          `Generator limited for ${g.limitedSeconds} s from ${g.firstLimitedAt !== null ? isoSeconds(g.firstLimitedAt) : '?'}: ${g.reasons.join('; ')}. Platform figures are a lower bound.`,
          'warn',
        )
      : p('The generator kept up: no sustained saturation of its threads.', 'meta');
    for (const l of s.devices.lost)
      body += p(`Worker ${l.worker} crashed; its ${l.devices} devices were lost: ${l.error}`, 'warn');
    const threads = new Set<string>();
    for (const k of [...Object.keys(s.metrics.histograms), ...Object.keys(s.metrics.gauges)]) {
      const { name, labels } = parseSeriesKey(k);
      if (
        (name === 'eventloop_delay' || name === 'cpu_percent' || name === 'heap_used_bytes') &&
        labels.worker
      )
        threads.add(labels.worker);
    }
    const rows = [...threads].sort().map((w): Cell[] => {
      const loop = s.metrics.histograms[`eventloop_delay{worker:${w}}`];
      const cpu = s.metrics.gauges[`cpu_percent{worker:${w}}`];
      const heap = s.metrics.gauges[`heap_used_bytes{worker:${w}}`];
      return [w, loop?.p99 ?? null, loop?.max ?? null, cpu?.max ?? null, heap ? heap.max / 1e6 : null];
    });
    body += table(['thread', 'event-loop delay p99 ms', 'max ms', 'CPU max %', 'heap max MB'], rows);
    const rss = s.metrics.gauges.rss_bytes;
    if (rss)
      body += p(`Process RSS: max ${num(rss.max / 1e6)} MB, at the end ${num(rss.last / 1e6)} MB.`, 'meta');
  }
  body += i.hasCharts.generator
    ? '<div class="charts" id="charts-generator"></div>'
    : p('no generator series recorded', 'empty');
  return section('generator', 'Generator health', body);
}

const SECRET_KEY = /^(password|passwd|login_passwd|secret|token|api_key|apikey)$/i;

/** The scenario for display: secret-named fields dropped (even masked), credentials in URLs masked. */
export function scenarioForDisplay(scenario: unknown): string {
  return JSON.stringify(
    scenario,
    (key, value) => {
      if (SECRET_KEY.test(key)) return undefined;
      if (typeof value === 'string')
        return value
          .replace(/(login_passwd=)[^&#\s]*/gi, `$1${MASK}`)
          .replace(/(\/\/[^/:@\s]+:)[^@/\s]+@/g, `$1${MASK}@`);
      return value;
    },
    2,
  );
}

export function scenarioSection(i: SectionInput): string {
  const body = i.scenario
    ? `<pre>${esc(scenarioForDisplay(i.scenario))}</pre>`
    : p('no scenario.json', 'empty');
  return section('scenario', 'Scenario as run', body);
}

export function environmentSection(i: SectionInput): string {
  const s = i.summary;
  const rows: Cell[][] = [['run directory', i.dir]];
  if (s) {
    const e = s.environment;
    rows.push(
      ['ivtfarm', e.ivtfarm],
      ['node', e.node],
      ['os', e.os],
      ['cpu', e.cpu],
      ['cores', e.cores],
      ['memory', `${num(e.memory_bytes / 1024 ** 3)} GiB`],
      ['target', s.target.kind === 'embedded' ? 'embedded' : targetNames(s.target)],
      ['workers', s.devices.workers],
      ['shard', s.devices.shard],
    );
  }
  return section('environment', 'Environment', table(['what', 'value'], rows));
}

/** A remote target's device endpoints, as the summary names them (masked). */
function targetNames(target: ReportSummary['target']): string {
  const urls = target.urls ?? (target.url ? [target.url] : []);
  return urls.length > 0 ? urls.join(', ') : 'remote';
}
