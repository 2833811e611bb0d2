// One second of one histogram — its HDR buckets plus exact count/sum/min/max — as a short
// base64url string, for `histograms.jsonl` beside `timeseries.jsonl`: `ivtfarm merge` adds the
// buckets of the shards and computes every per-second percentile exactly. Varints keep it small
// (a bucket is 2–4 bytes: the gap to the previous bucket's index, then its count); the HDR
// standard encoding would allocate a 188 KB histogram per key and second to write it.

import type { HistogramDelta } from './delta.js';
import { HDR_COUNTS_LENGTH } from './hdr.js';

const FORMAT_VERSION = 1;

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Unsigned LEB128 without 32-bit operators, so sums up to 2^53 survive. */
function writeVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** The encoded second, or null when it holds nothing exact to keep (no samples, non-integer stats). */
export function encodeSecondBuckets(h: HistogramDelta): string | null {
  if (h.count === 0 || ![h.count, h.sum, h.min, h.max].every(isCount)) return null;
  const pairs = h.buckets.length >> 1;
  const bytes: number[] = [FORMAT_VERSION];
  for (const n of [h.count, h.sum, h.min, h.max, pairs]) writeVarint(bytes, n);
  let previous = 0;
  for (let i = 0; i + 1 < h.buckets.length; i += 2) {
    const index = h.buckets[i]!;
    writeVarint(bytes, index - previous);
    writeVarint(bytes, h.buckets[i + 1]!);
    previous = index;
  }
  return Buffer.from(bytes).toString('base64url');
}

/** Reads back `encodeSecondBuckets`; throws on anything else (a torn or foreign line). */
export function decodeSecondBuckets(text: string): HistogramDelta {
  const bytes = Buffer.from(text, 'base64url');
  let at = 0;
  const read = (): number => {
    let value = 0;
    let factor = 1;
    for (;;) {
      if (at >= bytes.length) throw new Error('histogram buckets end early');
      const b = bytes[at++]!;
      value += (b & 0x7f) * factor;
      if (b < 0x80) return value;
      factor *= 0x80;
      if (factor > 2 ** 56) throw new Error('histogram buckets hold a number too large');
    }
  };
  if (read() !== FORMAT_VERSION) throw new Error('unknown histogram buckets format');
  const count = read();
  const sum = read();
  const min = read();
  const max = read();
  const pairs = read();
  if (pairs > HDR_COUNTS_LENGTH) throw new Error('histogram buckets hold too many pairs');
  const buckets = new Uint32Array(pairs * 2);
  let index = 0;
  let total = 0;
  for (let p = 0; p < pairs; p++) {
    index += read();
    const n = read();
    if (index >= HDR_COUNTS_LENGTH || n > 0xffffffff) throw new Error('histogram bucket out of range');
    buckets[2 * p] = index;
    buckets[2 * p + 1] = n;
    total += n;
  }
  if (at !== bytes.length || total !== count) throw new Error('histogram buckets do not add up');
  return { count, sum, min, max, buckets };
}

/** One line of `histograms.jsonl`: epoch second `t`, and per histogram series key its encoded buckets. */
export interface BucketsLine {
  t: number;
  h: Record<string, string>;
}

/** The line for one closed second; null when no histogram had samples in it. */
export function bucketsLine(t: number, histograms: ReadonlyMap<string, HistogramDelta>): string | null {
  const h: Record<string, string> = {};
  let any = false;
  for (const [key, delta] of histograms) {
    const encoded = encodeSecondBuckets(delta);
    if (encoded === null) continue;
    h[key] = encoded;
    any = true;
  }
  return any ? `${JSON.stringify({ t, h } satisfies BucketsLine)}\n` : null;
}
