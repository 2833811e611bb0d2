import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LimitFinder } from '../src/capacity/limit-finder.js';
import { churnEvents } from '../src/capacity/staircase.js';
import type { CapacityStep } from '../src/capacity/types.js';
import { Aggregator } from '../src/metrics/aggregator.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { stepsText } from '../src/report/capacity-steps.js';
import type { CapacityPlan } from '../src/scenario/types.js';

const T0 = 1_700_000_000;

function plan(serviceLevels: CapacityPlan['serviceLevels']): CapacityPlan {
  return {
    mode: 'devices',
    start: 100,
    step: 100,
    max: 300,
    rampMs: 2000,
    holdMs: 3000,
    sustainMs: 1000,
    onlineRatio: 0.99,
    churn: 0,
    streamsPerDevice: null,
    serviceLevels,
  };
}

/**
 * Plays seconds into a LimitFinder through a real registry and aggregator. The staircase starts
 * 300 ms into a second, so one second in every step straddles the boundary to the next ramp.
 */
function play(p: CapacityPlan, seconds: number, record: (loadMs: number, reg: MetricsRegistry) => void) {
  let ms = T0 * 1000 + 5;
  const reg = new MetricsRegistry({ source: 'w', now: () => ms });
  const agg = new Aggregator();
  const broken: CapacityStep[] = [];
  const finder = new LimitFinder(p, (s) => broken.push(s));
  agg.onSecond((raw) => finder.observe(raw, null));
  const startMs = T0 * 1000 + 300;
  agg.markLoadStart(startMs);
  for (let i = 0; i < seconds; i++) {
    record(T0 * 1000 + i * 1000 - startMs, reg);
    ms += 1000;
    agg.add(reg.takeDelta());
    agg.closeAll();
  }
  return { summary: finder.summary(), broken };
}

/** The level the staircase wants during the second starting at `loadMs` (end of the second). */
function levelAt(loadMs: number): number {
  const k = Math.floor((loadMs + 1000) / 5000);
  const inRamp = (loadMs + 1000) % 5000 < 2000;
  const level = 100 * (k + 1);
  return inRamp ? level - 50 : level;
}

test('refusals that start in the first second of the next ramp stay out of the step before it', () => {
  // The platform holds 200: every login past it is refused, from the second that reaches past 10 s
  // (the start of the 300 ramp) on. That second straddles the end of the 200 step's hold.
  const p = plan([
    { metric: 'logins{result:refused}', expression: 'rate<0.001' },
    { metric: 'keepalive_rtt', expression: 'p(99)<500' },
  ]);
  const { summary, broken } = play(p, 16, (loadMs, reg) => {
    const level = levelAt(loadMs);
    const online = Math.min(level, 200);
    reg.gauge('devices', { state: 'online' }).set(online);
    reg.counter('logins', { result: 'ok', reason: 'ok' }).add(online > 150 || loadMs < 9000 ? 20 : 0);
    if (loadMs + 1000 > 10_000) reg.counter('logins', { result: 'refused', reason: 'http_other' }).add(20);
    reg.histogram('keepalive_rtt').record(5);
  });
  assert.deepEqual(
    summary.steps.map((s) => [s.level, s.held, s.broken[0] ?? null]),
    [
      [100, true, null],
      [200, true, null],
      [300, false, 'logins{result:refused} rate<0.001'],
    ],
  );
  const at200 = summary.steps[1]!;
  assert.equal(at200.observed['logins{result:refused} rate<0.001'], 0, 'no refusal judged at 200');
  // Judged seconds: whole seconds inside the step only (it starts 300 ms into a second).
  assert.deepEqual(at200.ramp, { from: T0 + 6, to: T0 + 8 });
  assert.deepEqual(at200.hold, { from: T0 + 8, to: T0 + 10 });
  assert.equal(summary.capacity, 200);
  assert.equal(summary.broke_at, 300);
  assert.equal(broken.length, 1);
  assert.deepEqual(
    summary.service_levels.map((l) => [l.name, l.window]),
    [
      ['logins{result:refused} rate<0.001', 'ramp+hold'],
      ['keepalive_rtt p(99)<500', 'hold'],
      ['devices_online >= 99%', 'hold'],
    ],
  );
  const text = stepsText(summary).join('\n');
  assert.match(text, /logins\{result:refused\} rate<0\.001 \[ramp\+hold\]/);
  assert.match(text, /keepalive_rtt p\(99\)<500 \[hold\]/);
  assert.match(text, /200 devices\s+00:05–00:07\s+00:07–00:09\s+held/);
});

test('a step with no sample for a service level says so and does not hold', () => {
  const p = plan([{ metric: 'login_duration', expression: 'p(99)<1000' }]);
  const { summary } = play(p, 11, (loadMs, reg) => {
    reg.gauge('devices', { state: 'online' }).set(levelAt(loadMs));
    // Logins are timed in the first step only (as when nobody logs in during a hold, without churn).
    if (loadMs < 4000) reg.histogram('login_duration').record(30);
  });
  const [first, second] = summary.steps;
  assert.equal(first!.held, true);
  assert.equal(second!.held, false);
  assert.deepEqual(second!.broken, []);
  assert.deepEqual(second!.no_data, ['login_duration p(99)<1000']);
  assert.equal(second!.observed['login_duration p(99)<1000'], null);
  assert.equal(summary.capacity, 100);
  assert.match(stepsText(summary).join('\n'), /no data/);
});

test('devices mode churns a share of the devices during every hold, so each level has logins of its own', () => {
  const events = churnEvents({ ...plan([]), churn: 0.02, holdMs: 8000 });
  assert.deepEqual(
    events.map((e) => [e.action, e.atMs, e.overMs]),
    [
      ['disconnect', 2000, 7000],
      ['disconnect', 12_000, 7000],
      ['disconnect', 22_000, 7000],
    ],
  );
  // 2 % per second over the 7 s the reconnects are spread on, each logging in again at once.
  assert.equal(events[0]!.action === 'disconnect' && events[0]!.fraction, 0.14);
  assert.equal(events[0]!.action === 'disconnect' && events[0]!.reconnectAfterMs, 0);
  assert.deepEqual(churnEvents({ ...plan([]), mode: 'login_rate', churn: 0.02 }), []);
});
