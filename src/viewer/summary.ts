// summary.json → `viewers`: what the players saw, per protocol, from the run's metric tables
// (time to first frame, end-to-end delay, stalls, received bitrate, failures). docs/summary.md.
import type { RunSummary, ViewerProtocolSummary } from '../core/summary-types.js';
import { parseSeriesKey } from '../metrics/labels.js';

/** Per protocol (the `kind` label of the viewer metrics); null when the run had no players. */
export function viewerSummary(metrics: RunSummary['metrics']): Record<string, ViewerProtocolSummary> | null {
  const out: Record<string, ViewerProtocolSummary> = {};
  const of = (kind: string): ViewerProtocolSummary => {
    out[kind] ??= {
      players_max: 0,
      player_seconds: 0,
      ttff_ms: null,
      delay_ms: null,
      stalls: 0,
      stall_ms: null,
      received_bytes: 0,
      bitrate_bps: null,
      failures: {},
    };
    return out[kind];
  };
  for (const [key, n] of Object.entries(metrics.counters)) {
    const { name, labels } = parseSeriesKey(key);
    const kind = labels.kind;
    if (kind === undefined) continue;
    if (name === 'viewer_stalls') of(kind).stalls += n;
    else if (name === 'viewer_bytes') of(kind).received_bytes += n;
    else if (name === 'viewer_failures') {
      const f = of(kind).failures;
      f[labels.reason ?? '-'] = (f[labels.reason ?? '-'] ?? 0) + n;
    }
  }
  for (const [key, h] of Object.entries(metrics.histograms)) {
    const { name, labels } = parseSeriesKey(key);
    if (labels.kind === undefined) continue;
    if (name === 'viewer_ttff') of(labels.kind).ttff_ms = h;
    else if (name === 'viewer_delay') of(labels.kind).delay_ms = h;
    else if (name === 'viewer_stall_duration') of(labels.kind).stall_ms = h;
  }
  for (const [key, g] of Object.entries(metrics.gauges)) {
    const { name, labels } = parseSeriesKey(key);
    if (name !== 'viewers_playing' || labels.kind === undefined) continue;
    const v = of(labels.kind);
    v.players_max = g.max;
    v.player_seconds = g.sum;
  }
  for (const v of Object.values(out))
    v.bitrate_bps = v.player_seconds > 0 ? Math.round((v.received_bytes * 8) / v.player_seconds) : null;
  return Object.keys(out).length > 0 ? out : null;
}
