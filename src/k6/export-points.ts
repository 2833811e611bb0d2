// ivtfarm's run → k6 JSON lines (`ivtfarm run --out k6-json=FILE`), one closed second at a time:
// a `Metric` line the first time a metric appears, then `Point` lines. A counter's point is its
// increase in that second, a gauge's its value at the end of the second. k6's trend points are
// single samples; the run keeps histograms, not samples, so each second's histogram is written
// back as samples at its HDR buckets' values (within 0.1 %), at most MAX_TREND_POINTS per series
// and second — past that, evenly spaced quantiles of the second stand for them.

import type { RawSecond } from '../metrics/aggregator.js';
import { type Catalogue, DEFAULT_CATALOGUE, histogramScale, type MetricDef } from '../metrics/catalogue.js';
import type { HistogramDelta } from '../metrics/delta.js';
import { hdrHighestEquivalent, hdrValueFromIndex } from '../metrics/hdr.js';
import { parseSeriesKey } from '../metrics/labels.js';
import type { K6MetricLine, K6MetricType, K6PointLine } from './format.js';

export const MAX_TREND_POINTS = 200;

function k6Type(def: MetricDef | undefined, kind: 'counter' | 'gauge' | 'histogram'): K6MetricType {
  if (kind === 'histogram') return 'trend';
  return def?.kind === 'gauge' || kind === 'gauge' ? 'gauge' : 'counter';
}

function contains(def: MetricDef | undefined): K6MetricLine['data']['contains'] {
  if (def?.unit === 'ms') return 'time';
  return def?.unit === 'bytes' ? 'data' : 'default';
}

/** The middle of an HDR bucket, in the metric's unit. */
function bucketValue(index: number, scale: number): number {
  return (hdrValueFromIndex(index) + hdrHighestEquivalent(index)) / 2 / scale;
}

/** Sample values standing for one second's histogram (every sample, or evenly spaced quantiles). */
export function trendSamples(h: HistogramDelta, scale: number, max = MAX_TREND_POINTS): number[] {
  const out: number[] = [];
  const step = h.count <= max ? 1 : h.count / max;
  let next = step / 2;
  let seen = 0;
  for (let i = 0; i < h.buckets.length; i += 2) {
    const n = h.buckets[i + 1]!;
    const v = bucketValue(h.buckets[i]!, scale);
    if (step === 1) {
      for (let k = 0; k < n; k++) out.push(v);
    } else {
      while (next < seen + n && out.length < max) {
        out.push(v);
        next += step;
      }
    }
    seen += n;
  }
  return out;
}

export class K6PointWriter {
  private readonly declared = new Set<string>();

  constructor(private readonly catalogue: Catalogue = DEFAULT_CATALOGUE) {}

  /** The lines of one closed second, in order: declarations first where needed. */
  lines(second: RawSecond): string[] {
    const time = new Date(second.t * 1000).toISOString();
    const out: string[] = [];
    const emit = (key: string, kind: 'counter' | 'gauge' | 'histogram', values: readonly number[]) => {
      const { name, labels } = parseSeriesKey(key);
      const def = this.catalogue.get(name);
      if (!this.declared.has(name)) {
        this.declared.add(name);
        const decl: K6MetricLine = {
          type: 'Metric',
          metric: name,
          data: { name, type: k6Type(def, kind), contains: contains(def), thresholds: [], submetrics: null },
        };
        out.push(JSON.stringify(decl));
      }
      const tags = Object.keys(labels).length > 0 ? (labels as Record<string, string>) : null;
      for (const value of values) {
        const point: K6PointLine = { type: 'Point', metric: name, data: { time, value, tags } };
        out.push(JSON.stringify(point));
      }
    };
    for (const [key, n] of second.counters) emit(key, 'counter', [n]);
    for (const key in second.gauges) emit(key, 'gauge', [second.gauges[key]!]);
    for (const [key, h] of second.histograms) {
      const def = this.catalogue.get(parseSeriesKey(key).name);
      emit(key, 'histogram', trendSamples(h, def ? histogramScale(def.unit) : 1));
    }
    return out;
  }
}
