import type { RunSummary } from '../core/summary-types.js';
import { DEFAULT_CATALOGUE, type MetricUnit } from '../metrics/catalogue.js';
import { parseSeriesKey } from '../metrics/labels.js';
import type { HistogramSummary } from '../metrics/summary.js';
import { stepsText } from './capacity-steps.js';
import { formatComparison } from './compare.js';
import { byLabel, byLabels } from './counters.js';
import type { ReportSummary } from './types.js';
import { capacitySentence, judgedExpression } from './types.js';

function fmt(n: number | null | undefined, unit = ''): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '-';
  const v = Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
  return `${v}${unit}`;
}

const unitSuffix: Partial<Record<MetricUnit, string>> = { ms: 'ms', bytes: ' B', percent: '%' };
const catalogueOrder = [...DEFAULT_CATALOGUE.keys()];

/**
 * One line per histogram series the run recorded (alarm_rtt, each RPC method, uploads…), in
 * catalogue order, named by its series key as thresholds write it.
 */
export function percentileLines(histograms: Record<string, HistogramSummary>): string[] {
  const rank = (key: string) => {
    const i = catalogueOrder.indexOf(parseSeriesKey(key).name);
    return i < 0 ? catalogueOrder.length : i;
  };
  const keys = Object.keys(histograms)
    .filter((k) => (histograms[k]?.count ?? 0) > 0)
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const width = Math.max(15, ...keys.map((k) => k.length));
  return keys.map((key) => {
    const x = histograms[key]!;
    const def = DEFAULT_CATALOGUE.get(parseSeriesKey(key).name);
    const u = def ? (unitSuffix[def.unit] ?? '') : '';
    return `  ${key.padEnd(width)} p50 ${fmt(x.p50, u)}  p95 ${fmt(x.p95, u)}  p99 ${fmt(x.p99, u)}  max ${fmt(x.max, u)}  (n=${x.count})`;
  });
}

/** One line per viewer protocol: what the players saw (the percentile lines have the rest). */
export function viewerLines(viewers: RunSummary['viewers']): string[] {
  return Object.entries(viewers ?? {}).map(([kind, v]) => {
    const failures = Object.entries(v.failures)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(' ');
    const stallMs = v.stall_ms ? Math.round(v.stall_ms.mean * v.stall_ms.count) : 0;
    return `  viewers ${kind.padEnd(8)} ${v.players_max} playing at most  ttff p95 ${fmt(v.ttff_ms?.p95, 'ms')}  delay p50 ${fmt(v.delay_ms?.p50, 'ms')} p99 ${fmt(v.delay_ms?.p99, 'ms')}  stalls ${v.stalls} (${stallMs} ms)  ${v.bitrate_bps === null ? '-' : `${Math.round(v.bitrate_bps / 1000)} kbit/s`} per player  failures ${failures || 'none'}`;
  });
}

/** Per `http_load:` block (and k6): its requests by status, e.g. `200 29990  503 10  timeout 2`. */
function httpStatusLines(counters: Record<string, number>): Array<[string, Array<[string, number]>]> {
  const byLoad = new Map<string, Array<[string, number]>>();
  for (const [[load, status], n] of byLabels(counters, 'http_requests', (l) => [
    l.load ?? '-',
    l.status ?? '-',
  ])) {
    const list = byLoad.get(load!) ?? [];
    list.push([status!, n]);
    byLoad.set(load!, list);
  }
  return [...byLoad];
}

/** The end-of-run text, k6 style: verdict, key figures, thresholds, warnings. */
export function formatSummary(s: RunSummary): string {
  const lines: string[] = [];
  const c = s.metrics.counters;
  const h = s.metrics.histograms;
  const verdict = { pass: 'PASSED', fail: 'FAILED', interrupted: 'INTERRUPTED' }[s.run.verdict];
  lines.push('');
  // The first reason a run failed goes on the verdict line: "FAILED — no device ever came online".
  const headline = s.run.verdict === 'fail' ? (s.run.reasons?.[0] ?? '') : '';
  lines.push(
    `  ${s.run.name}: ${verdict}${headline ? ` — ${headline}` : ''} in ${s.run.duration_s}s (exit ${s.run.exit_code})${s.run.stop_detail ? ` — ${s.run.stop_detail}` : ''}`,
  );
  for (const c of s.checks ?? []) if (!c.ok) lines.push(`  ✗ check ${c.name}: ${c.reason}`);
  lines.push(
    `  devices planned ${s.devices.planned} on ${s.devices.workers} worker(s)${s.devices.shard !== '0/1' ? `, shard ${s.devices.shard}` : ''}`,
  );
  const logins = byLabel(c, 'logins', 'result');
  lines.push(`  logins          ${logins.map(([k, n]) => `${k} ${n}`).join('  ') || '-'}`);
  lines.push(...percentileLines(h));
  for (const [load, statuses] of httpStatusLines(c))
    lines.push(`  http ${load.padEnd(10)} ${statuses.map(([k, n]) => `${k} ${n}`).join('  ')}`);
  const disconnects = byLabel(c, 'disconnects', 'reason');
  if (disconnects.length > 0)
    lines.push(`  disconnects     ${disconnects.map(([k, n]) => `${k} ${n}`).join('  ')}`);
  const rpcErrors = byLabel(c, 'rpc_errors', 'method');
  if (rpcErrors.length > 0)
    lines.push(`  rpc errors      ${rpcErrors.map(([k, n]) => `${k} ${n}`).join('  ')}`);
  const firmware = byLabel(c, 'firmware_checks', 'result');
  if (firmware.length > 0)
    lines.push(`  firmware checks ${firmware.map(([k, n]) => `${k} ${n}`).join('  ')}`);
  const alarms = byLabel(c, 'alarms', 'type');
  if (alarms.length > 0) lines.push(`  alarms          ${alarms.map(([k, n]) => `${k} ${n}`).join('  ')}`);
  const got = s.platform?.received;
  const pushed = got?.streams.pushed ?? 0;
  if (s.platform?.publishes && (s.platform.publishes.ordered > 0 || pushed > 0)) {
    const p = s.platform.publishes;
    lines.push(
      `  publishes       ordered ${p.ordered}  ok ${p.ok}  failed ${Object.values(p.failed).reduce((a, b) => a + b, 0)}${pushed > 0 ? `  pushed by devices ${pushed}` : ''}`,
    );
  }
  if (s.platform?.records && s.platform.records.ordered > 0) {
    const r = s.platform.records;
    lines.push(
      `  recordings      ordered ${r.ordered}  ok ${r.ok}  failed ${Object.values(r.failed).reduce((a, b) => a + b, 0)}`,
    );
  }
  if (got && got.streams.ordered + pushed > 0) {
    const st = got.streams;
    const range = st.ratio_min === null ? '' : `, received/target ${fmt(st.ratio_min)}–${fmt(st.ratio_max)}`;
    const expected =
      pushed === 0 ? `${st.ordered}` : `${st.ordered + pushed} (${st.ordered} ordered, ${pushed} pushed)`;
    const seen = st.judged_at === 'sender' ? 'live at the platform (RTMP accepted)' : 'received';
    const sent = st.judged_at === 'sender' ? ' sent' : '';
    lines.push(
      `  streams in      ${st.received}/${expected} ${seen}, ${st.within_10pct}/${st.judged}${sent} within ±10 % of their bitrate${range}${st.with_violations ? `, ${st.with_violations} with violations` : ''}`,
    );
  }
  const r = got?.recordings;
  if (r && r.ordered > 0) {
    const dropped = Object.entries(c)
      .filter(([k]) => k.startsWith('segments_dropped'))
      .reduce((n, [, v]) => n + v, 0);
    lines.push(
      `  recordings in   ${r.with_segments}/${r.ordered} uploaded segments: ${r.segments} segments, ${(r.bytes / 2 ** 20).toFixed(1)} MB, ${r.fails} failed, ${dropped} dropped, ${r.saved} saved`,
    );
  }
  lines.push(...viewerLines(s.viewers));
  if (s.capacity) {
    lines.push(`  ${capacitySentence(s.capacity)}`);
    if (s.capacity.steps.length > 0)
      lines.push('  steps (times since the first step began)', ...stepsText(s.capacity, '    '));
  }
  if (s.thresholds.length > 0) {
    lines.push('  thresholds');
    for (const t of s.thresholds) {
      lines.push(
        `    ${t.ok ? '✓' : '✗'} ${t.metric} ${judgedExpression(t)}  observed ${t.observed === null ? 'no data' : fmt(t.observed)}`,
      );
    }
  }
  if (s.aborted_by) lines.push(`  aborted by threshold ${s.aborted_by.metric} ${s.aborted_by.expression}`);
  if (s.devices.lost.length > 0) {
    for (const l of s.devices.lost)
      lines.push(`  ! worker ${l.worker} crashed, ${l.devices} devices lost: ${l.error}`);
  }
  const baseline = (s as ReportSummary).baseline;
  if (baseline) lines.push(formatComparison(baseline));
  if (s.generator.limited) {
    lines.push(
      `  ! the load generator itself was saturated (${s.generator.reasons.join('; ')}): figures are a lower bound`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

export function printSummary(summary: RunSummary, out: NodeJS.WritableStream): void {
  out.write(`${formatSummary(summary)}\n`);
}
