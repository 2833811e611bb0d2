import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Aggregator } from '../src/metrics/aggregator.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import {
  allPassed,
  evaluateThresholds,
  LiveThresholds,
  parseThresholds,
  type ThresholdResult,
} from '../src/metrics/thresholds.js';

const T0 = 1_700_000_000;

/** A registry + aggregator on a fake clock; `second(fn)` records one second of events. */
function harness() {
  let ms = T0 * 1000 + 5;
  const reg = new MetricsRegistry({ source: 'w', now: () => ms });
  const agg = new Aggregator();
  return {
    reg,
    agg,
    second(fn: () => void): void {
      fn();
      ms += 1000;
      agg.add(reg.takeDelta());
      agg.closeAll();
    },
  };
}

function byExpr(results: ThresholdResult[], metric: string, expression: string): ThresholdResult {
  const r = results.find((x) => x.metric === metric && x.expression === expression);
  assert.ok(r, `${metric} ${expression}`);
  return r;
}

test('final verdict on run totals: rates, percentiles with label filters, gauges, no data', () => {
  const h = harness();
  h.second(() => {
    const rpcs = h.reg.counterFamily('rpcs', ['method', 'direction']);
    rpcs.get('Keepalive', 'to_ivc').add(800);
    rpcs.get('RTMPPublish', 'from_ivc').add(200);
    h.reg.counter('rpc_errors', { method: 'RTMPPublish', code: 12 }).add(2);
    h.reg.counter('logins', { result: 'ok' }).add(90);
    h.reg.counter('logins', { result: 'failed', reason: 'timeout' }).add(10);
    h.reg.counter('disconnects', { reason: 'timeout' }).add(9);
    const fast = h.reg.histogram('rpc_duration', { method: 'Keepalive', direction: 'to_ivc' });
    const slow = h.reg.histogram('rpc_duration', { method: 'RTMPPublish', direction: 'from_ivc' });
    for (let i = 1; i <= 100; i++) {
      fast.record(i); // 1..100 ms
      slow.record(1000 + i);
    }
    h.reg.gauge('devices', { state: 'online' }).set(95);
    h.reg.gauge('devices', { state: 'backoff' }).set(5);
  });
  const ths = parseThresholds({
    rpc_errors: ['rate<0.001', 'count<=2'],
    'rpc_errors{method:RTMPPublish}': ['rate<0.02'],
    'logins{result:failed}': ['rate<0.05'],
    disconnects: ['rate<=0.1'],
    'rpc_duration{method:Keepalive}': [
      'p(99)<100',
      'p(50)<=50.1',
      'avg==50.5',
      'med<51',
      'min>0',
      'max<=100',
      'count==100',
    ],
    rpc_duration: ['p(99)<500', 'count>=200'],
    'devices{state:online}': ['value>=95'],
    devices: ['value==100', 'max<100'],
    login_duration: ['p(99)<1'],
  });
  const res = evaluateThresholds(ths, h.agg.totals);
  const e = (m: string, x: string) => byExpr(res, m, x);
  assert.deepEqual(e('rpc_errors', 'rate<0.001'), {
    metric: 'rpc_errors',
    expression: 'rate<0.001',
    ok: false,
    observed: 0.002,
  });
  assert.equal(e('rpc_errors', 'count<=2').ok, true);
  // Errors of one method divide by the calls of that method only.
  assert.equal(e('rpc_errors{method:RTMPPublish}', 'rate<0.02').observed, 0.01);
  assert.equal(e('logins{result:failed}', 'rate<0.05').observed, 0.1);
  assert.equal(e('logins{result:failed}', 'rate<0.05').ok, false);
  assert.equal(e('disconnects', 'rate<=0.1').observed, 0.1); // 9 / 90 successful logins
  for (const x of ['p(99)<100', 'p(50)<=50.1', 'avg==50.5', 'med<51', 'min>0', 'max<=100', 'count==100']) {
    assert.equal(e('rpc_duration{method:Keepalive}', x).ok, true, x);
  }
  assert.equal(e('rpc_duration', 'p(99)<500').ok, false);
  assert.ok(e('rpc_duration', 'p(99)<500').observed! > 1000);
  assert.equal(e('rpc_duration', 'count>=200').ok, true);
  assert.equal(e('devices{state:online}', 'value>=95').ok, true);
  assert.equal(e('devices', 'value==100').ok, true);
  assert.equal(e('devices', 'max<100').ok, false);
  assert.deepEqual(e('login_duration', 'p(99)<1'), {
    metric: 'login_duration',
    expression: 'p(99)<1',
    ok: true,
    observed: null,
  });
  assert.equal(allPassed(res), false);
});

/** Runs `errorsAt(s)` errors out of 100 RPCs per second for `n` seconds (null: no RPC at all). */
function liveRun(
  config: Record<string, unknown>,
  n: number,
  errorsAt: (s: number) => number | null,
  lookbackS = 1,
) {
  const h = harness();
  const aborts: ThresholdResult[] = [];
  const thresholds = parseThresholds(config).map((th) => ({ ...th, lookbackS }));
  const live = new LiveThresholds(thresholds, { onAbort: (r) => aborts.push(r) }).attach(h.agg);
  const history: ThresholdResult[][] = [];
  for (let s = 0; s < n; s++) {
    h.second(() => {
      const errors = errorsAt(s);
      if (errors === null) return;
      h.reg.counter('rpcs', { method: 'Keepalive', direction: 'to_ivc' }).add(100);
      if (errors > 0) h.reg.counter('rpc_errors', { method: 'Keepalive', code: 'timeout' }).add(errors);
    });
    history.push(live.results());
  }
  return { live, aborts, history };
}

test('live: abort only after failing continuously for the window; a passing second resets it', () => {
  // Failing from second 5, one good second at 12, failing again from 13: the 10 s streak completes at 22.
  const { live, aborts, history } = liveRun(
    { rpc_errors: [{ threshold: 'rate<0.01', abort_on_fail: true, window: '10s' }] },
    40,
    (s) => (s >= 5 && s !== 12 ? 5 : 0),
  );
  assert.equal(history[4]![0]!.ok, true);
  assert.equal(history[11]![0]!.windowFailedSince, T0 + 5);
  assert.equal(history[12]![0]!.ok, true);
  assert.equal(history[12]![0]!.windowFailedSince, undefined);
  assert.equal(history[21]![0]!.aborted, undefined);
  assert.equal(aborts.length, 1);
  assert.equal(live.aborted?.windowFailedSince, T0 + 13);
  assert.equal(history[22]![0]!.aborted, true);
  assert.equal(live.aborted?.observed, 0.05);
});

test('live: seconds without data keep the streak, delayAbortEval holds the abort back', () => {
  const r1 = liveRun(
    { rpc_errors: [{ threshold: 'rate<0.01', abort_on_fail: true, window: '5s' }] },
    20,
    (s) => (s < 2 ? 10 : s < 8 ? null : 0),
  );
  // Failing at 0-1, then silence: the streak is not broken by missing data, so the abort comes at 4.
  assert.equal(r1.aborts.length, 1);
  assert.equal(r1.aborts[0]!.windowFailedSince, T0);
  assert.equal(r1.history[3]![0]!.aborted, undefined);
  assert.equal(r1.history[4]![0]!.aborted, true);

  const r2 = liveRun(
    { rpc_errors: [{ threshold: 'rate<0.01', abort_on_fail: true, delay_abort_eval: '10s' }] },
    20,
    (s) => (s < 10 || s === 15 ? 10 : 0),
  );
  // Failures during the first 10 s are reported but cannot abort; the one at 15 does.
  assert.equal(r2.history[3]![0]!.ok, false);
  assert.equal(r2.history[9]![0]!.aborted, undefined);
  assert.equal(r2.aborts.length, 1);
  assert.equal(r2.aborts[0]!.windowFailedSince, T0 + 15);
});

test('live: lookback smooths a one-second spike; only abortOnFail thresholds abort, and the abort stays visible', () => {
  const { aborts, history } = liveRun(
    {
      rpc_errors: [{ threshold: 'rate<0.01' }, { threshold: 'rate<0.01', abort_on_fail: true }],
    },
    15,
    (s) => (s === 3 ? 5 : 0),
    10,
  );
  // One second with 5 % errors: 5 / 400 over 4 seconds > 1 %, 5 / 1000 over 10 seconds < 1 %.
  assert.equal(history[3]![0]!.ok, false);
  assert.equal(aborts.length, 1);
  assert.equal(aborts[0]!.expression, 'rate<0.01');
  assert.equal(history[3]![0]!.aborted, undefined);
  assert.equal(history[14]![0]!.ok, true);
  assert.equal(history[14]![0]!.observed, 0);
  assert.equal(history[14]![1]!.aborted, true, 'an abort, once requested, stays visible');
});
