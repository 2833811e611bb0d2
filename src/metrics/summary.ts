// Histogram summaries in the metric's own unit (ms for durations), as written per second and in totals.

import type { HdrCounts } from './hdr.js';

export interface HistogramSummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

const PS = [50, 90, 95, 99] as const;
const scratch: number[] = [];

/** `scale` = integer units per metric unit (histogramScale); results are rounded to one integer unit. */
export function summarize(c: HdrCounts, scale: number): HistogramSummary {
  if (c.count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  const [p50, p90, p95, p99] = c.percentiles(PS, scratch) as [number, number, number, number];
  return {
    count: c.count,
    min: c.min / scale,
    mean: Math.round(c.sum / c.count) / scale,
    p50: p50 / scale,
    p90: p90 / scale,
    p95: p95 / scale,
    p99: p99 / scale,
    max: c.max / scale,
  };
}
