// HdrCounts ⇄ HdrHistogram's standard "compressed base64" encoding (V2, deflate), produced and read
// by hdr-histogram-js, so run totals can also be inspected with any HdrHistogram tool.

import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, JsHistogram } from 'hdr-histogram-js';
import {
  HDR_COUNTS_LENGTH,
  HDR_HIGHEST,
  HDR_SIGNIFICANT_DIGITS,
  HdrCounts,
  hdrValueFromIndex,
} from './hdr.js';

/** Encodes the buckets of `counts` (count/sum/min/max travel separately: they are exact). */
export function encodeHdr(counts: HdrCounts): string {
  const h = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HDR_HIGHEST,
    numberOfSignificantValueDigits: HDR_SIGNIFICANT_DIGITS,
    bitBucketSize: 64,
    autoResize: false,
  });
  const c = counts.counts;
  for (let i = 0; i < HDR_COUNTS_LENGTH; i++) {
    if (c[i] !== 0) h.recordValueWithCount(hdrValueFromIndex(i), c[i]!);
  }
  return encodeIntoCompressedBase64(h);
}

/** Decodes into a Float64 HdrCounts; only bucket counts are set (callers restore the exact stats). */
export function decodeHdr(base64: string): HdrCounts {
  const h = decodeFromCompressedBase64(base64, 64, false);
  if (!(h instanceof JsHistogram)) throw new Error('unexpected histogram implementation');
  if (h.subBucketHalfCountMagnitude !== 10 || h.unitMagnitude !== 0) {
    throw new Error('histogram was not encoded with 3 significant digits and lowest value 1');
  }
  const out = new HdrCounts('f64');
  const n = Math.min(h.countsArrayLength, HDR_COUNTS_LENGTH);
  for (let i = 0; i < n; i++) {
    const v = h.getCountAtIndex(i);
    if (v !== 0) out.counts[i] = v;
  }
  return out;
}
