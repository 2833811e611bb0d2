import type { RunSummary } from '../farm/summary.js';
import { formatComparison } from './compare.js';
import { byLabel } from './counters.js';
import type { ReportSummary } from './types.js';
import { capacitySentence } from './types.js';

function fmt(n: number | null | undefined, unit = ''): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '-';
  const v = Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
  return `${v}${unit}`;
}

/** The end-of-run text, k6 style: verdict, key figures, thresholds, warnings. */
export function formatSummary(s: RunSummary): string {
  const lines: string[] = [];
  const c = s.metrics.counters;
  const h = s.metrics.histograms;
  const verdict = { pass: 'PASSED', fail: 'FAILED', interrupted: 'INTERRUPTED' }[s.run.verdict];
  lines.push('');
  lines.push(
    `  ${s.run.name}: ${verdict} in ${s.run.duration_s}s (exit ${s.run.exit_code})${s.run.stop_detail ? ` — ${s.run.stop_detail}` : ''}`,
  );
  lines.push(
    `  devices planned ${s.devices.planned} on ${s.devices.workers} worker(s)${s.devices.shard !== '0/1' ? `, shard ${s.devices.shard}` : ''}`,
  );
  const logins = byLabel(c, 'logins', 'result');
  lines.push(`  logins          ${logins.map(([k, n]) => `${k} ${n}`).join('  ') || '-'}`);
  for (const [key, label] of [
    ['login_duration', 'login time'],
    ['keepalive_rtt', 'keepalive rtt'],
    ['publish_start_duration', 'publish start'],
    ['segment_upload_duration', 'segment upload'],
  ] as const) {
    const x = h[key];
    if (x && x.count > 0) {
      lines.push(
        `  ${label.padEnd(15)} p50 ${fmt(x.p50, 'ms')}  p95 ${fmt(x.p95, 'ms')}  p99 ${fmt(x.p99, 'ms')}  max ${fmt(x.max, 'ms')}  (n=${x.count})`,
      );
    }
  }
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
  if (s.platform?.publishes && s.platform.publishes.ordered > 0) {
    const p = s.platform.publishes;
    lines.push(
      `  publishes       ordered ${p.ordered}  ok ${p.ok}  failed ${Object.values(p.failed).reduce((a, b) => a + b, 0)}`,
    );
  }
  if (s.platform?.records && s.platform.records.ordered > 0) {
    const r = s.platform.records;
    lines.push(
      `  recordings      ordered ${r.ordered}  ok ${r.ok}  failed ${Object.values(r.failed).reduce((a, b) => a + b, 0)}`,
    );
  }
  const got = s.platform?.received;
  if (got && got.streams.ordered > 0) {
    const st = got.streams;
    const range = st.ratio_min === null ? '' : `, received/target ${fmt(st.ratio_min)}–${fmt(st.ratio_max)}`;
    lines.push(
      `  streams in      ${st.received}/${st.ordered} received, ${st.within_10pct}/${st.judged} within ±10 % of their bitrate${range}${st.with_violations ? `, ${st.with_violations} with violations` : ''}`,
    );
  }
  if (got && got.recordings.ordered > 0) {
    const r = got.recordings;
    const dropped = Object.entries(c)
      .filter(([k]) => k.startsWith('segments_dropped'))
      .reduce((n, [, v]) => n + v, 0);
    lines.push(
      `  recordings in   ${r.with_segments}/${r.ordered} uploaded segments: ${r.segments} segments, ${(r.bytes / 2 ** 20).toFixed(1)} MB, ${r.fails} failed, ${dropped} dropped, ${r.saved} saved`,
    );
  }
  if (s.capacity) lines.push(`  ${capacitySentence(s.capacity)}`);
  if (s.thresholds.length > 0) {
    lines.push('  thresholds');
    for (const t of s.thresholds) {
      lines.push(
        `    ${t.ok ? '✓' : '✗'} ${t.metric} ${t.expression}  observed ${t.observed === null ? 'no data' : fmt(t.observed)}`,
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
