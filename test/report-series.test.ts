import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SecondSample } from '../src/metrics/aggregator.js';
import type { HistogramSummary } from '../src/metrics/summary.js';
import { buckets, downsample } from '../src/report/downsample.js';
import { buildCharts, MAX_POINTS, MAX_SERIES_PER_CHART, SeriesCollector } from '../src/report/series.js';

const h = (p99: number): HistogramSummary => ({
  count: 10,
  min: 1,
  mean: 2,
  p50: 2,
  p90: 3,
  p95: 4,
  p99,
  max: p99,
});

describe('report time series', () => {
  test('a long run is thinned to ≤ 1,500 points per chart, a one-second latency spike survives', () => {
    const c = new SeriesCollector();
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      c.add({
        t: 1_700_000_000 + i,
        counters: { 'logins{result:ok,reason:ok}': 2 },
        gauges: { 'devices{state:online}': i, devices_target: n },
        histograms: { keepalive_rtt: h(i === 7777 ? 900 : 5) },
      } satisfies SecondSample);
    }
    const charts = buildCharts(c, null);
    assert.deepEqual(
      charts.map((ch) => ch.id),
      ['devices', 'logins', 'keepalive'],
      'only charts with data',
    );
    for (const ch of charts) {
      assert.ok(ch.data[0]!.length <= MAX_POINTS, `${ch.id}: ${ch.data[0]!.length} points`);
      for (const s of ch.data) assert.equal(s.length, ch.data[0]!.length);
    }
    const ka = charts.find((ch) => ch.id === 'keepalive')!;
    const p99 = ka.data[1 + ka.series.findIndex((s) => s.label === 'p99')]!;
    assert.equal(Math.max(...(p99 as number[])), 900, 'max bucket keeps the spike');
    const logins = charts.find((ch) => ch.id === 'logins')!;
    assert.ok(
      (logins.data[1] as number[]).every((v) => v === 2),
      'a rate stays a rate after thinning',
    );
    assert.equal(ka.data[0]![0], 1_700_000_000);
  });

  test('label cardinality is bounded: busiest RPC methods only, counters beyond 8 summed as "other"', () => {
    const c = new SeriesCollector();
    for (let i = 0; i < 30; i++) {
      const histograms: Record<string, HistogramSummary> = {};
      const counters: Record<string, number> = {};
      for (let m = 0; m < 200; m++) {
        histograms[`rpc_duration{method:M${m},direction:to_ivc}`] = { ...h(3), count: m };
        counters[`disconnects{reason:r${m}}`] = 1;
      }
      c.add({ t: 1_700_000_000 + i, counters, gauges: {}, histograms });
    }
    assert.ok(c.skippedSeries > 0, 'series beyond the per-metric cap are counted');
    const charts = buildCharts(c, null);
    const rpc = charts.find((ch) => ch.id === 'rpc-p99')!;
    assert.equal(rpc.series.length, MAX_SERIES_PER_CHART);
    assert.match(rpc.title, /busiest 8 of \d+/);
    assert.equal(rpc.series[0]!.label, 'M63 (device→IVC)', 'the busiest method kept first');
    const d = charts.find((ch) => ch.id === 'disconnects')!;
    assert.equal(d.series.length, MAX_SERIES_PER_CHART);
    assert.match(d.series.at(-1)!.label, /^other \(\d+\)$/);
  });

  test('downsample: mean or max per bucket, null for a bucket without data', () => {
    const bs = buckets(6, 3);
    assert.deepEqual(bs, [
      [0, 2],
      [2, 4],
      [4, 6],
    ]);
    const v = [1, 3, Number.NaN, Number.NaN, 10, 2];
    assert.deepEqual(downsample(v, bs, 'mean'), [2, null, 6]);
    assert.deepEqual(downsample(v, bs, 'max'), [3, null, 10]);
  });
});
