import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Aggregator, fromJsonLine, toJsonLine } from '../src/metrics/aggregator.js';
import { DeltaFormatError, type MetricsDelta } from '../src/metrics/delta.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { mergeTotals, RunTotals } from '../src/metrics/totals.js';

const T0 = 1_700_000_000; // epoch seconds

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Clock {
  ms: number;
}

function registry(source: string, clock: Clock): MetricsRegistry {
  return new MetricsRegistry({ source, now: () => clock.ms });
}

/** Feeds the same random events of `seconds` seconds to `parts` (round-robin) and to `whole`. */
function drive(
  parts: MetricsRegistry[],
  whole: MetricsRegistry,
  clock: Clock,
  seconds: number,
): MetricsDelta[][] {
  const rand = rng(42);
  const out: MetricsDelta[][] = [];
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < 3000; i++) {
      const part = parts[i % parts.length]!;
      const method = i % 3 === 0 ? 'Keepalive' : 'RTMPPublish';
      const ms = rand() ** 3 * 2000;
      for (const r of [part, whole]) {
        r.histogram('rpc_duration', { method, direction: 'to_ivc' }).record(ms);
        r.counter('rpcs', { method, direction: 'to_ivc' }).add();
        if (ms > 1500) r.counter('rpc_errors', { method, code: 'timeout' }).add();
      }
    }
    // Each part holds a share of the devices; the whole registry holds them all.
    let online = 0;
    parts.forEach((p, k) => {
      const n = 10 * (k + 1) + s;
      p.gauge('devices', { state: 'online' }).set(n);
      online += n;
    });
    whole.gauge('devices', { state: 'online' }).set(online);
    clock.ms = (T0 + s + 1) * 1000 + 5;
    out.push([...parts, whole].map((r) => r.takeDelta()));
  }
  return out;
}

test('deltas of two registries merge to exactly what one registry seeing everything reports', () => {
  const clock = { ms: T0 * 1000 + 5 };
  const parts = [registry('w1', clock), registry('w2', clock)];
  const whole = registry('all', clock);
  const deltas = drive(parts, whole, clock, 3);
  const split = new Aggregator();
  const single = new Aggregator();
  for (const round of deltas) {
    split.add(round[0]!);
    split.add(round[1]!);
    single.add(round[2]!);
  }
  const a = split.closeAll();
  const b = single.closeAll();
  assert.equal(a.length, 3);
  assert.deepEqual(
    a.map((s) => s.t),
    [T0, T0 + 1, T0 + 2],
  );
  assert.deepEqual(a, b);
  const h = a[0]!.histograms['rpc_duration{method:Keepalive,direction:to_ivc}']!;
  assert.equal(h.count, 1000);
  assert.ok(h.p50 <= h.p90 && h.p90 <= h.p99 && h.p99 <= h.max);
  assert.equal(a[2]!.gauges['devices{state:online}'], 12 + 22);
  assert.deepEqual(split.totals.serialize(), single.totals.serialize());
  assert.equal(split.totals.counters.get('rpcs{method:RTMPPublish,direction:to_ivc}'), 6000);
  // One JSON line per second.
  const line = toJsonLine(a[0]!);
  assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
  assert.deepEqual(fromJsonLine(line), a[0]);
  assert.throws(() => fromJsonLine('{"t":1}'), /not a metrics time-series line/);
});

test('shard totals serialized to JSON and merged equal the totals of one run', () => {
  const clock = { ms: T0 * 1000 + 5 };
  const parts = [registry('w1', clock), registry('w2', clock)];
  const whole = registry('all', clock);
  const deltas = drive(parts, whole, clock, 2);
  const shard1 = new Aggregator();
  const shard2 = new Aggregator();
  const single = new Aggregator();
  for (const round of deltas) {
    shard1.add(round[0]!);
    shard2.add(round[1]!);
    single.add(round[2]!);
  }
  for (const agg of [shard1, shard2, single]) agg.closeAll();
  const files = [shard1, shard2].map((s) => JSON.stringify(s.totals.serialize()));
  const merged = mergeTotals(files.map((f) => RunTotals.deserialize(JSON.parse(f))));
  assert.deepEqual(merged.serialize(), single.totals.serialize());
  assert.deepEqual(merged.gauges.get('devices{state:online}'), {
    last: 11 + 21,
    min: 10 + 20,
    max: 11 + 21,
    // Average of each shard (10.5, 20.5) over the 2 seconds both cover: 31 per second.
    sum: (10.5 + 20.5) * 2,
    seconds: 2,
  });
});

test('a delta arriving after its second closed lands in the next second; totals stay exact', () => {
  const clock = { ms: T0 * 1000 };
  const r = registry('w1', clock);
  const agg = new Aggregator();
  r.counter('logins', { result: 'ok' }).add(3);
  clock.ms += 1000;
  const late = r.takeDelta();
  r.counter('logins', { result: 'ok' }).add(2);
  clock.ms += 1000;
  agg.add(r.takeDelta()); // second T0+1
  assert.deepEqual(
    agg.closeUpTo(T0 + 1).map((s) => s.t),
    [T0 + 1],
  );
  agg.add(late); // belonged to T0, which can no longer change
  const [next] = agg.closeUpTo(T0 + 2);
  assert.equal(next!.t, T0 + 2);
  assert.equal(next!.counters['logins{result:ok}'], 3);
  assert.equal(agg.lateDeltas, 1);
  assert.equal(agg.totals.counters.get('logins{result:ok}'), 5);
});

test('gauges of a source persist across seconds without its deltas, and vanish when it is removed', () => {
  const clock = { ms: T0 * 1000 + 5 };
  const r1 = registry('w1', clock);
  const r2 = registry('w2', clock);
  const agg = new Aggregator();
  r1.gauge('streams_live', { quality: 'sd' }).set(4);
  r2.gauge('streams_live', { quality: 'sd' }).set(6);
  clock.ms += 1000;
  agg.add(r1.takeDelta());
  agg.add(r2.takeDelta());
  clock.ms += 1000;
  agg.add(r1.takeDelta()); // w2 silent this second
  const [s0, s1] = agg.closeUpTo(T0 + 1);
  assert.equal(s0!.gauges['streams_live{quality:sd}'], 10);
  assert.equal(s1!.gauges['streams_live{quality:sd}'], 10);
  agg.removeSource('w2');
  const [s2] = agg.closeUpTo(T0 + 2);
  assert.equal(s2!.gauges['streams_live{quality:sd}'], 4);
});

test('malformed deltas are refused at the boundary', () => {
  const clock = { ms: T0 * 1000 };
  const r = registry('w1', clock);
  r.histogram('login_duration').record(12);
  clock.ms += 1000;
  const d = r.takeDelta();
  const agg = new Aggregator();
  assert.throws(() => agg.add({ ...d, v: 2 }), DeltaFormatError);
  assert.throws(
    () => agg.add({ ...d, histograms: { login_duration: { ...d.histograms.login_duration!, count: 2 } } }),
    /buckets hold 1, count says 2/,
  );
  assert.throws(() => agg.add({ ...d, counters: { logins: 'x' } }), /counters.logins is not a number/);
  assert.throws(
    () =>
      agg.add({
        ...d,
        histograms: { login_duration: { ...d.histograms.login_duration!, min: 0, max: 5000 } },
      }),
    /outside min\/max/,
  );
  assert.equal(agg.totals.counters.size, 0);
});

test('registry: catalogue names and labels are enforced, handles and families are cached', () => {
  const r = new MetricsRegistry({ source: 'w', maxSeriesPerMetric: 3 });
  assert.throws(() => r.counter('login'), /unknown metric "login"/);
  assert.throws(() => r.gauge('logins'), /is a counter, not a gauge/);
  assert.throws(() => r.counter('logins', { method: 'x' }), /has no label "method"/);
  assert.equal(r.counter('logins', { result: 'ok' }), r.counter('logins', { result: 'ok' }));
  const fam = r.histogramFamily('rpc_duration', ['method', 'direction']);
  assert.equal(
    fam.get('Keepalive', 'to_ivc'),
    r.histogram('rpc_duration', { method: 'Keepalive', direction: 'to_ivc' }),
  );
  assert.equal(fam.get('Keepalive', 'to_ivc'), fam.get('Keepalive', 'to_ivc'));
  // Label values from the platform are cleaned; too many combinations fold into _other.
  assert.equal(
    r.counter('rpc_errors', { method: 'Bad Name{}', code: 1 }).key,
    'rpc_errors{method:Bad_Name__,code:1}',
  );
  for (let i = 0; i < 5; i++) r.counter('events_received', { event: `E${i}` }).add();
  const d = r.takeDelta();
  assert.equal(d.counters['events_received{event:_other}'], 2);
  assert.equal(d.counters['events_received{event:E0}'], 1);
});
