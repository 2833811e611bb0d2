import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apportion, inShard, parseShard, planDevices, shardShare } from '../src/farm/plan.js';
import { parseScenario, type Scenario } from '../src/scenario/index.js';

function scenario(yaml: string): Scenario {
  const { scenario: s, problems } = parseScenario(yaml, { env: {} });
  assert.deepEqual(problems, []);
  return s!;
}

const mixed = scenario(`
seed: 42
devices:
  count: 1000
  login_code: "sim-{index:05}"
  source_addresses: [127.0.0.2, 127.0.0.3, 127.0.0.4]
  mix:
    - { weight: 80, kind: camera, profile: spec }
    - { weight: 15, kind: nvr, channels: 8, profile: vendor }
    - { weight: 5, kind: camera, faults: { slow_answers: 3s } }
`);

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

describe('planDevices', () => {
  it('is deterministic for a seed and changes with the seed', () => {
    const a = planDevices(mixed);
    const b = planDevices(mixed);
    assert.deepEqual(a, b);
    const other = planDevices({ ...mixed, seed: 43 });
    assert.notDeepEqual(
      a.map((d) => d.mix),
      other.map((d) => d.mix),
    );
  });

  it('follows the weighted mix exactly and shuffles it', () => {
    const plan = planDevices(mixed);
    assert.equal(plan.length, 1000);
    assert.deepEqual(
      countBy(plan, (d) => d.mix),
      { 'camera/spec': 800, 'nvr-8/vendor': 150, 'camera/spec/faulty': 50 },
    );
    // Shuffled: the first 100 devices (the start of a ramp) are not all from one entry.
    assert.ok(Object.keys(countBy(plan.slice(0, 100), (d) => d.mix)).length >= 2);
    const nvr = plan.find((d) => d.kind === 'nvr')!;
    assert.equal(nvr.channels, 8);
    assert.equal(nvr.profile, 'vendor');
    const faulty = plan.find((d) => d.mix === 'camera/spec/faulty')!;
    assert.equal(faulty.faults.slowAnswerMs, 3000);
    assert.equal(plan.find((d) => d.mix === 'camera/spec')!.faults.slowAnswerMs, 0);
  });

  it('gives every device its own login code and spreads source addresses evenly', () => {
    const plan = planDevices(mixed);
    assert.equal(plan[0]!.loginCode, 'sim-00000');
    assert.equal(plan[999]!.loginCode, 'sim-00999');
    assert.equal(new Set(plan.map((d) => d.loginCode)).size, 1000);
    assert.deepEqual(
      countBy(plan, (d) => d.sourceAddress ?? 'os'),
      {
        '127.0.0.2': 334,
        '127.0.0.3': 333,
        '127.0.0.4': 333,
      },
    );
    assert.equal(planDevices(scenario('devices: { count: 2 }'))[0]!.sourceAddress, null);
  });

  it('shards partition the devices: each in exactly one, same attributes as unsharded', () => {
    const whole = planDevices(mixed);
    const count = 7;
    const seen = new Map<number, number>();
    for (let index = 0; index < count; index++) {
      const part = planDevices(mixed, { shard: { index, count } });
      assert.equal(part.length, shardShare(1000, { index, count }));
      for (const d of part) {
        assert.ok(inShard(d.index, { index, count }));
        seen.set(d.index, (seen.get(d.index) ?? 0) + 1);
        assert.deepEqual(d, whole[d.index]);
      }
    }
    assert.equal(seen.size, 1000);
    assert.ok([...seen.values()].every((n) => n === 1));
  });

  it('shardShare splits any global target so that the shards add up to it', () => {
    for (const total of [0, 1, 6, 7, 8, 999, 1000]) {
      let sum = 0;
      for (let index = 0; index < 7; index++) sum += shardShare(total, { index, count: 7 });
      assert.equal(sum, total);
    }
  });

  it('plans 100k devices quickly enough to do at start-up', () => {
    const big = { ...mixed, devices: { ...mixed.devices, count: 100_000 } };
    const plan = planDevices(big);
    assert.equal(plan.length, 100_000);
    assert.equal(countBy(plan, (d) => d.mix)['nvr-8/vendor'], 15_000);
  });

  it('rejects invalid shards', () => {
    assert.throws(() => planDevices(mixed, { shard: { index: 3, count: 3 } }), RangeError);
    assert.throws(() => planDevices(mixed, { shard: { index: 0, count: 0 } }), RangeError);
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    assert.throws(() => parseShard('4/4'), /0 <= i < n/);
    assert.throws(() => parseShard('a/b'));
  });
});

describe('apportion (largest remainder)', () => {
  it('sums to the total and rounds the largest remainders up', () => {
    assert.deepEqual(apportion([1, 1, 1], 10), [4, 3, 3]);
    assert.deepEqual(apportion([80, 15, 5], 7), [6, 1, 0]);
    assert.deepEqual(apportion([2, 1], 1), [1, 0]);
    assert.deepEqual(apportion([0, 1], 5), [0, 5]);
    for (const total of [0, 1, 13, 997]) {
      assert.equal(
        apportion([3, 7, 11, 0.5], total).reduce((a, b) => a + b, 0),
        total,
      );
    }
    assert.throws(() => apportion([0, 0], 3), RangeError);
  });
});
