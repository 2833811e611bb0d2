import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SecondSample } from '../src/metrics/aggregator.js';
import { GeneratorLimitDetector } from '../src/metrics/generator-limit.js';
import { GeneratorHealthSampler } from '../src/metrics/health.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import type { HistogramSummary } from '../src/metrics/summary.js';

test('health sampler sees a blocked event loop, thread CPU and memory', async () => {
  const reg = new MetricsRegistry({ source: 'w' });
  const sampler = new GeneratorHealthSampler(reg, { worker: '0', process: true, resolutionMs: 10 });
  try {
    await sleep(50);
    const until = Date.now() + 250;
    while (Date.now() < until) {
      // Busy: the loop cannot run its timers.
    }
    await sleep(30);
    sampler.tick();
    const d = reg.takeDelta();
    const delay = d.histograms['eventloop_delay{worker:0}']!;
    assert.ok(delay.count > 0);
    assert.ok(delay.max >= 150_000, `max delay ${delay.max / 1000} ms`); // µs units
    assert.ok(d.gauges['cpu_percent{worker:0}']! > 30, `thread cpu ${d.gauges['cpu_percent{worker:0}']}`);
    // Process CPU is real CPU time: other processes may take the core, so only check it moved.
    assert.ok(d.gauges['cpu_percent{worker:process}']! > 5);
    assert.ok(d.gauges.rss_bytes! > 10_000_000);
    assert.ok(d.gauges['heap_used_bytes{worker:0}']! > 1_000_000);
  } finally {
    sampler.stop();
  }
});

function sample(t: number, loopP99: number, cpu: number): SecondSample {
  const h: HistogramSummary = {
    count: 100,
    min: 0,
    mean: 1,
    p50: 1,
    p90: 1,
    p95: 1,
    p99: loopP99,
    max: loopP99,
  };
  return {
    t,
    counters: {},
    gauges: { 'cpu_percent{worker:1}': cpu, 'cpu_percent{worker:process}': cpu },
    histograms: { 'eventloop_delay{worker:1}': h },
  };
}

test('generator-limited needs a sustained saturation, and says why', () => {
  const d = new GeneratorLimitDetector({ sustainSeconds: 5, cores: 2 });
  let t = 100;
  for (let i = 0; i < 4; i++) assert.equal(d.observe(sample(t++, 250, 20)), false);
  d.observe(sample(t++, 5, 20)); // a healthy second breaks the stretch
  assert.equal(d.summary().limited, false);
  for (let i = 0; i < 4; i++) d.observe(sample(t++, 250, 20));
  assert.equal(d.limitedNow, false);
  assert.equal(d.observe(sample(t++, 250, 20)), true);
  d.observe(sample(t++, 3, 95)); // thread CPU over 90 % keeps it limited; 95 < 180 for the process
  d.observe(sample(t++, 3, 10));
  const s = d.summary();
  assert.equal(s.limited, true);
  assert.equal(s.firstLimitedAt, 105);
  assert.equal(s.limitedSeconds, 6);
  assert.deepEqual(s.reasons, ['eventloop_delay{worker:1} p99 > 100ms', 'cpu_percent{worker:1} > 90%']);
  assert.equal(d.limitedNow, false);
});
