// The once-a-second message a worker posts to the coordinator. Plain objects, numbers and
// Uint32Arrays only, so it survives structured clone (postMessage) without custom code.

import { HDR_COUNTS_LENGTH, HDR_HIGHEST, hdrIndexOf, type SparseCounts } from './hdr.js';

/** One histogram's samples of the interval, in the histogram's integer units (see histogramScale). */
export interface HistogramDelta {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Non-zero HDR buckets as [index, count, index, count, ...]. */
  buckets: SparseCounts;
}

export interface MetricsDelta {
  v: 1;
  /** Who sent it (a worker id); gauges are kept per source. */
  source: string;
  /** Interval covered, epoch milliseconds [from, to). */
  from: number;
  to: number;
  /** Counter increments during the interval (only non-zero ones). */
  counters: Record<string, number>;
  /** Every gauge of the source with its value at `to`. */
  gauges: Record<string, number>;
  histograms: Record<string, HistogramDelta>;
}

export class DeltaFormatError extends Error {
  override name = 'DeltaFormatError';
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function finiteNumbers(x: unknown, what: string): Record<string, number> {
  if (!isRecord(x)) throw new DeltaFormatError(`${what} must be an object`);
  for (const [k, v] of Object.entries(x)) {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new DeltaFormatError(`${what}.${k} is not a number`);
  }
  return x as Record<string, number>;
}

/**
 * Checks a message received from another thread or process before it is merged, so a bad
 * message fails loudly at the boundary instead of corrupting the run totals.
 */
export function decodeDelta(msg: unknown): MetricsDelta {
  if (!isRecord(msg) || msg.v !== 1) throw new DeltaFormatError('not a metrics delta (v !== 1)');
  const { source, from, to } = msg;
  if (typeof source !== 'string') throw new DeltaFormatError('source must be a string');
  if (typeof from !== 'number' || typeof to !== 'number' || !(to >= from)) {
    throw new DeltaFormatError('from/to must be epoch milliseconds with to >= from');
  }
  finiteNumbers(msg.counters, 'counters');
  finiteNumbers(msg.gauges, 'gauges');
  if (!isRecord(msg.histograms)) throw new DeltaFormatError('histograms must be an object');
  for (const [k, h] of Object.entries(msg.histograms)) {
    if (!isRecord(h) || !(h.buckets instanceof Uint32Array) || h.buckets.length % 2 !== 0) {
      throw new DeltaFormatError(`histograms.${k} has no [index,count] buckets`);
    }
    for (const f of ['count', 'sum', 'min', 'max'] as const) {
      if (typeof h[f] !== 'number' || !Number.isFinite(h[f])) {
        throw new DeltaFormatError(`histograms.${k}.${f} is not a number`);
      }
    }
    // Buckets must lie between the buckets of min and max: HdrCounts relies on it to bound its loops.
    const min = h.min as number;
    const max = h.max as number;
    if (h.count !== 0 && !(min >= 0 && max <= HDR_HIGHEST && min <= max)) {
      throw new DeltaFormatError(`histograms.${k}: min/max out of range`);
    }
    const lo = h.count !== 0 ? hdrIndexOf(min) : 0;
    const hi = h.count !== 0 ? hdrIndexOf(max) : -1;
    let total = 0;
    for (let i = 0; i < h.buckets.length; i += 2) {
      const idx = h.buckets[i]!;
      if (idx < lo || idx > hi || idx >= HDR_COUNTS_LENGTH) {
        throw new DeltaFormatError(`histograms.${k}: bucket ${idx} outside min/max`);
      }
      total += h.buckets[i + 1]!;
    }
    if (total !== h.count)
      throw new DeltaFormatError(`histograms.${k}: buckets hold ${total}, count says ${h.count}`);
  }
  return msg as unknown as MetricsDelta;
}
