// summary.json → the shape of `k6 run --summary-export=FILE` (k6's "old JSON summary", what
// k6's summary wrapper writes from its handleSummary data): `root_group` (groups and checks;
// ivtfarm has none) and `metrics`, one object per series named as k6 names submetrics
// (`http_duration{load:stats}`), with the values of its type:
//   trend   avg, min, med, max, p(90), p(95), p(99)     (in the metric's unit: ms for durations)
//   counter count, rate (per second of the run)
//   gauge   value, min, max
// and `thresholds: { "<expression>": <true when it failed> }` on the series a threshold names.

import type { RunSummary } from '../core/summary-types.js';

type Values = Record<string, number | Record<string, boolean>>;

export interface K6SummaryExport {
  root_group: {
    name: string;
    path: string;
    id: string;
    groups: Record<string, never>;
    checks: Record<string, never>;
  };
  metrics: Record<string, Values>;
}

/** MD5 of the empty string: k6's id of the root group (its path is ""). */
const ROOT_GROUP_ID = 'd41d8cd98f00b204e9800998ecf8427e';

export function k6SummaryExport(s: RunSummary): K6SummaryExport {
  const metrics: Record<string, Values> = {};
  const seconds = Math.max(s.run.duration_s, 1e-9);
  for (const [key, h] of Object.entries(s.metrics.histograms)) {
    metrics[key] = {
      avg: h.mean,
      min: h.min,
      med: h.p50,
      max: h.max,
      'p(90)': h.p90,
      'p(95)': h.p95,
      'p(99)': h.p99,
    };
  }
  for (const [key, n] of Object.entries(s.metrics.counters)) metrics[key] = { count: n, rate: n / seconds };
  for (const [key, g] of Object.entries(s.metrics.gauges))
    metrics[key] = { value: g.last, min: g.min, max: g.max };
  for (const t of s.thresholds) {
    const m = metrics[t.metric] ?? {};
    const thresholds = (m.thresholds ?? {}) as Record<string, boolean>;
    thresholds[t.during ? `${t.expression} during ${t.during}` : t.expression] = !t.ok;
    m.thresholds = thresholds;
    metrics[t.metric] = m;
  }
  return {
    root_group: { name: '', path: '', id: ROOT_GROUP_ID, groups: {}, checks: {} },
    metrics,
  };
}
