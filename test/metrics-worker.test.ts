// A real worker thread records into its own registry and posts deltas through postMessage
// (structured clone); the coordinator side must see exactly the samples the worker recorded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Aggregator } from '../src/metrics/aggregator.js';
import type { MetricsDelta } from '../src/metrics/delta.js';
import { HdrCounts } from '../src/metrics/hdr.js';
import { MetricsRegistry } from '../src/metrics/registry.js';

const VALUES_MS = [0.004, 0.5, 1, 12.25, 99.9, 250, 1000, 3_599_999];

function workerMain(): void {
  const { source, t0 } = workerData as { source: string; t0: number };
  const reg = new MetricsRegistry({ source, now: () => t0 });
  const h = reg.histogram('keepalive_rtt');
  for (let i = 0; i < 1000; i++) h.record(VALUES_MS[i % VALUES_MS.length]!);
  reg.counter('logins', { result: 'ok' }).add(7);
  reg.gauge('devices', { state: 'online' }).set(42);
  parentPort!.postMessage(reg.takeDelta(t0 + 1000));
}

if (!isMainThread) {
  workerMain();
} else {
  test('histogram deltas survive a worker_threads boundary bucket for bucket', async () => {
    const t0 = 1_700_000_000_000;
    const deltas = await Promise.all(
      ['w1', 'w2'].map(
        (source) =>
          new Promise<MetricsDelta>((resolve, reject) => {
            const w = new Worker(new URL(import.meta.url), { workerData: { source, t0 } });
            w.once('message', (m: MetricsDelta) => resolve(m));
            w.once('error', reject);
          }),
      ),
    );
    const agg = new Aggregator();
    for (const d of deltas) agg.add(d);
    const [second] = agg.closeAll();

    // What the same recording gives in this thread.
    const local = new HdrCounts('u32');
    for (let i = 0; i < 2000; i++) local.record(VALUES_MS[i % VALUES_MS.length]! * 1000);
    const merged = agg.totals.histograms.get('keepalive_rtt')!;
    assert.deepEqual(Array.from(merged.counts), Array.from(local.counts));
    assert.equal(merged.sum, local.sum);

    const s = second!.histograms.keepalive_rtt!;
    assert.equal(s.count, 2000);
    assert.equal(s.min, 0.004);
    assert.equal(s.max, 3_599_999);
    assert.equal(s.p50, local.percentile(50) / 1000);
    assert.equal(second!.counters['logins{result:ok}'], 14);
    assert.equal(second!.gauges['devices{state:online}'], 84);
  });
}
