// Time-series thinning for the HTML report: at most `maxPoints` buckets per chart, each bucket the
// mean (levels, rates) or the max (latency percentiles: a spike must not vanish) of its seconds.

export type BucketAgg = 'mean' | 'max';

/** Four significant digits: plenty for a chart, and keeps the inlined JSON small. */
export function round4(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const mag = 10 ** (3 - Math.floor(Math.log10(Math.abs(v))));
  return Math.round(v * mag) / mag;
}

/** Bucket boundaries over n seconds: [start, end) index pairs. */
export function buckets(n: number, maxPoints: number): Array<[number, number]> {
  const size = Math.max(1, Math.ceil(n / maxPoints));
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i += size) out.push([i, Math.min(n, i + size)]);
  return out;
}

/** One value per bucket; NaN means "no data that second", a bucket of only NaN gives null. */
export function downsample(
  values: ArrayLike<number>,
  bs: Array<[number, number]>,
  agg: BucketAgg,
): Array<number | null> {
  const out: Array<number | null> = new Array(bs.length);
  for (let b = 0; b < bs.length; b++) {
    const [from, to] = bs[b]!;
    let n = 0;
    let acc = agg === 'max' ? Number.NEGATIVE_INFINITY : 0;
    for (let i = from; i < to; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) continue;
      n++;
      if (agg === 'max') {
        if (v > acc) acc = v;
      } else acc += v;
    }
    out[b] = n === 0 ? null : round4(agg === 'max' ? acc : acc / n);
  }
  return out;
}
