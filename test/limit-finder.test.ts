import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anyMix, runInline } from './farm-support.js';

const scenarioText = (cap: number) => `
name: limit-finder-test
target: embedded
devices:
  count: 1400
  login_code: "lf-{index:05}"
  mix: [{ weight: 1, kind: camera }]
  source_addresses: [127.0.3.0/30]
platform:
  refuse_logins_after: ${cap}
capacity:
  mode: devices
  start: 800
  step: 150
  max: 1400
  ramp: 2s
  hold: 5s
  # Long enough that a busy machine still logging in the 800 of the first ramp does not break it.
  sustain: 4s
  # What this test is about: refusals past the cap. (Latency service levels would judge this
  # machine's load as much as the platform.)
  service_levels:
    "logins{result:refused}": "rate<0.001"
`;

test('the limit finder reports the capped reference platform’s capacity within one step, and what broke', async () => {
  const result = await runInline(scenarioText(1180));
  const c = result.summary.capacity;
  assert.ok(c, 'a capacity section');
  // Steps: 800, 950, 1100 hold; 1250 exceeds the cap of 1180 and breaks.
  assert.equal(c.capacity, 1100);
  assert.equal(c.broke_at, 1250);
  assert.ok(1180 - c.capacity! <= 150, 'within one step of the true capacity');
  assert.equal(c.ended, 'broken');
  assert.match(c.first_broken ?? '', /logins\{result:refused\}|devices_online/);
  assert.deepEqual(
    c.steps.map((s) => [s.level, s.held]),
    [
      [800, true],
      [950, true],
      [1100, true],
      [1250, false],
    ],
  );
  assert.equal(result.summary.run.stop_reason, 'limit_found');
  assert.equal(result.exitCode, 0);
});

test('at the boundary where refusals start: the step at the cap holds free of refusals, the next breaks, logins timed at every step', async () => {
  // The cap is exactly a level: refusals begin on the next ramp, right after the 300 hold ends.
  const result = await runInline(`
name: limit-finder-boundary
target: embedded
devices:
  count: 400
  login_code: "lfb-{index:04}"
  mix: [{ weight: 1, kind: camera }]
platform:
  refuse_logins_after: 300
capacity:
  mode: devices
  start: 100
  step: 100
  max: 400
  ramp: 2s
  hold: 4s
  sustain: 2s
  churn: 0.05
  service_levels:
    "logins{result:refused}": "rate<0.001"
    login_duration: "p(99)<60000"
`);
  const c = result.summary.capacity;
  assert.ok(c);
  const refused = 'logins{result:refused} rate<0.001';
  assert.deepEqual(
    c.steps.slice(0, 3).map((s) => [s.level, s.held, s.observed[refused]]),
    [
      [100, true, 0],
      [200, true, 0],
      [300, true, 0],
    ],
  );
  assert.deepEqual(
    c.steps.slice(3).map((s) => [s.level, s.held, s.broken.includes(refused)]),
    [[400, false, true]],
  );
  assert.ok((c.steps[3]!.observed[refused] ?? 0) > 0.001, 'refusals judged on the 400 step');
  assert.equal(c.capacity, 300);
  assert.equal(c.broke_at, 400);
  for (const s of c.steps) {
    assert.notEqual(s.observed['login_duration p(99)<60000'], null, `login latency at ${s.level}`);
    assert.deepEqual(s.no_data, []);
    assert.ok(s.hold && s.ramp && s.ramp.to === s.hold.from, `ramp then hold at ${s.level}`);
  }
  // The churn is what times logins during the holds: devices reconnected by the scenario.
  assert.ok((anyMix(result.summary.metrics.counters, 'disconnects{reason:scenario}') ?? 0) > 0);
});

test('streams mode: the platform’s publish orders climb until the ingest refuses; capacity within one step', async () => {
  const result = await runInline(
    `
name: stream-capacity-test
target: embedded
devices:
  count: 20
  login_code: "lfs-{index:03}"
  mix: [{ weight: 1, kind: nvr, channels: 4 }]
platform:
  publish: { quality: ld }
  refuse_streams_after: 33
capacity:
  mode: streams
  start: 10
  step: 10
  max: 60
  ramp: 3s
  hold: 5s
  sustain: 2s
  # The ingest's refusals are what this test is about; bitrate and start-latency levels would also
  # judge how busy this machine is.
  service_levels:
    "publishes{result:failed}": "rate<0.001"
`,
  );
  const c = result.summary.capacity;
  assert.ok(c);
  assert.equal(c.unit, 'streams');
  assert.equal(c.capacity, 30);
  assert.equal(c.broke_at, 40);
  assert.match(c.first_broken ?? '', /streams_live|publishes\{result:failed\}/);
  assert.deepEqual(
    c.steps.map((s) => s.held),
    [true, true, true, false],
  );
});

test('a capacity search whose first step already breaks names no capacity and fails (exit 99), saying start lower', async () => {
  const result = await runInline(`
name: limit-finder-none
target: embedded
devices:
  count: 200
  login_code: "lfn-{index:04}"
  mix: [{ weight: 1, kind: camera }]
platform:
  refuse_logins_after: 50
capacity:
  mode: devices
  start: 100
  step: 100
  max: 200
  ramp: 2s
  hold: 3s
  sustain: 2s
  service_levels:
    "logins{result:refused}": "rate<0.001"
`);
  const c = result.summary.capacity;
  assert.equal(c?.capacity, null);
  assert.equal(c?.broke_at, 100);
  const check = result.summary.checks?.find((k) => k.name === 'capacity step held');
  assert.ok(check && !check.ok, JSON.stringify(result.summary.checks));
  assert.match(check.reason, /the first level, 100 devices, already broke .*start lower/);
  assert.equal(result.exitCode, 99);
});
