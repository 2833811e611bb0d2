// The dense HDR layout must be bucket-for-bucket HdrHistogram's, or percentiles and the standard
// encoding would silently disagree with every other HdrHistogram tool.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { HDR_COUNTS_LENGTH, HDR_HIGHEST, HdrCounts, hdrIndexOf } from '../src/metrics/hdr.js';
import { decodeHdr, encodeHdr } from '../src/metrics/hdr-codec.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function oracle() {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HDR_HIGHEST,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 64,
    autoResize: false,
  });
}

test('bucket index and percentiles equal hdr-histogram-js for values from 0 to 2^32-1', () => {
  const rand = rng(7);
  const mine = new HdrCounts('u32');
  const ref = oracle();
  const edge = [0, 1, 2047, 2048, 2049, 4095, 4096, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 2, HDR_HIGHEST];
  const values = [...edge];
  for (let i = 0; i < 20_000; i++) values.push(Math.floor(Math.exp(rand() * Math.log(HDR_HIGHEST))));
  for (const v of values) {
    mine.record(v);
    ref.recordValue(v);
    assert.ok(hdrIndexOf(v) < HDR_COUNTS_LENGTH);
  }
  assert.equal(mine.count, ref.totalCount);
  for (const p of [0, 1, 25, 50, 90, 95, 99, 99.9, 99.99, 100]) {
    const expected = Math.min(Math.max(ref.getValueAtPercentile(p), mine.min), mine.max);
    assert.equal(mine.percentile(p), expected, `p${p}`);
  }
  assert.deepEqual(
    mine.percentiles([50, 90, 99]),
    [50, 90, 99].map((p) => mine.percentile(p)),
  );
  // Same buckets → the standard encoding is byte-identical.
  assert.equal(encodeHdr(mine), encodeIntoCompressedBase64(ref));
});

test('standard encoding round-trips every bucket', () => {
  const rand = rng(11);
  const h = new HdrCounts('u32');
  for (let i = 0; i < 5000; i++) h.record(Math.floor(rand() * 5_000_000), 1 + (i % 3));
  const back = decodeHdr(encodeHdr(h));
  assert.deepEqual(Array.from(back.counts), Array.from(h.counts));
});

test('out-of-range input is clamped or ignored, never thrown', () => {
  const h = new HdrCounts('u32');
  h.record(-5);
  h.record(Number.NaN);
  h.record(1e12);
  h.record(Number.POSITIVE_INFINITY);
  assert.equal(h.count, 2);
  assert.equal(h.min, 0);
  assert.equal(h.max, HDR_HIGHEST);
});
