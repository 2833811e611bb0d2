// Whole-run percentiles for the report's table. summary.json carries p50/p90/p95/p99; a scenario
// asking for others (`report.percentiles`) gets them from the exact HDR totals in the summary.

import type { RunSummary } from '../core/summary-types.js';
import { DEFAULT_CATALOGUE, histogramScale } from '../metrics/catalogue.js';
import { parseSeriesKey } from '../metrics/labels.js';
import { RunTotals } from '../metrics/totals.js';

export const DEFAULT_PERCENTILES: readonly number[] = [50, 90, 95, 99];

export interface PercentileRow {
  key: string;
  count: number;
  min: number;
  mean: number;
  max: number;
  /** One value per requested percentile, in the metric's unit. */
  values: number[];
}

/** The percentiles a scenario asked for (`report.percentiles`), ascending; the defaults otherwise. */
export function requestedPercentiles(scenario: Record<string, unknown> | null): number[] {
  const report = scenario?.report as { percentiles?: unknown } | undefined;
  const ps = report?.percentiles;
  if (!Array.isArray(ps) || ps.length === 0 || !ps.every((p) => typeof p === 'number' && p > 0 && p <= 100))
    return [...DEFAULT_PERCENTILES];
  return [...new Set(ps as number[])].sort((a, b) => a - b);
}

export function percentileRows(summary: RunSummary, ps: readonly number[]): PercentileRow[] {
  const hs = Object.entries(summary.metrics.histograms).filter(([, h]) => h.count > 0);
  const isDefault =
    ps.length === DEFAULT_PERCENTILES.length && ps.every((p, i) => p === DEFAULT_PERCENTILES[i]);
  let totals: RunTotals | null = null;
  if (!isDefault) {
    try {
      totals = RunTotals.deserialize(summary.totals);
    } catch {
      totals = null; // an older or hand-edited summary: fall back to the four stored percentiles
    }
  }
  return hs.map(([key, h]) => {
    const counts = totals?.histograms.get(key);
    let values: number[];
    if (counts) {
      const def = DEFAULT_CATALOGUE.get(parseSeriesKey(key).name);
      const scale = def ? histogramScale(def.unit) : 1;
      values = counts.percentiles(ps).map((v) => v / scale);
    } else {
      const stored: Record<number, number> = { 50: h.p50, 90: h.p90, 95: h.p95, 99: h.p99 };
      values = (totals === null && !isDefault ? DEFAULT_PERCENTILES : ps).map((p) => stored[p] ?? Number.NaN);
    }
    return { key, count: h.count, min: h.min, mean: h.mean, max: h.max, values };
  });
}
