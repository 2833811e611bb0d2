import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deviceSeed, seededRandom } from '../src/core/random.js';
import { Scheduler, type TimerTarget } from '../src/core/scheduler.js';
import { quickRetriesExhausted, reconnectDelay } from '../src/device/backoff.js';
import { applyDetectConfig, defaultDetectConfig, isArmed, secondsOfDay } from '../src/device/detection.js';
import { profiles, resolveTimings } from '../src/device/profile.js';
import { Ptz, presetPosition } from '../src/device/ptz.js';
import { eventually } from '../support/eventually.js';

/** A scheduler on a hand-driven clock: `advanceTo` moves time and runs due timers. */
function manual(resolutionMs = 10, slots = 16) {
  let now = 0;
  const scheduler = new Scheduler({ resolutionMs, slots, now: () => now, unref: true });
  return {
    scheduler,
    advanceTo(t: number) {
      now = t;
      scheduler.advance();
    },
  };
}

class Log implements TimerTarget {
  fired: Array<[number, number]> = [];
  constructor(private readonly clock: () => number) {}
  onTimer(kind: number): void {
    this.fired.push([kind, this.clock()]);
  }
}

describe('scheduler (timing wheel)', () => {
  test('fires timers in due order, within one tick of their delay', () => {
    const { scheduler, advanceTo } = manual();
    const log = new Log(() => scheduler.now());
    for (const [kind, delay] of [
      [1, 55],
      [2, 5],
      [3, 30],
    ] as const) {
      scheduler.schedule(scheduler.timer(log, kind), delay);
    }
    for (let t = 0; t <= 100; t += 10) advanceTo(t);
    assert.deepEqual(
      log.fired.map(([k]) => k),
      [2, 3, 1],
    );
    for (const [kind, at] of log.fired) {
      const delay = { 1: 55, 2: 5, 3: 30 }[kind]!;
      assert.ok(at >= delay && at <= delay + 10, `kind ${kind} fired at ${at}`);
    }
    assert.equal(scheduler.size, 0);
  });

  test('delays longer than one wheel rotation wait the extra rounds', () => {
    const { scheduler, advanceTo } = manual(10, 16); // one rotation = 160 ms
    const log = new Log(() => scheduler.now());
    scheduler.schedule(scheduler.timer(log, 7), 1000);
    for (let t = 0; t < 1000; t += 10) advanceTo(t);
    assert.equal(log.fired.length, 0);
    advanceTo(1010);
    assert.deepEqual(log.fired, [[7, 1010]]);
  });

  test('cancel and re-schedule are O(1) moves: a moved timer fires once, a cancelled one never', () => {
    const { scheduler, advanceTo } = manual();
    const log = new Log(() => scheduler.now());
    const a = scheduler.timer(log, 1);
    const b = scheduler.timer(log, 2);
    scheduler.schedule(a, 20);
    scheduler.schedule(b, 20);
    scheduler.schedule(a, 80);
    scheduler.cancel(b);
    assert.equal(scheduler.size, 1);
    for (let t = 0; t <= 200; t += 10) advanceTo(t);
    assert.deepEqual(log.fired, [[1, 80]]);
  });

  test('a late tick catches up every due slot, and a callback may cancel its neighbour', () => {
    const { scheduler, advanceTo } = manual();
    const fired: number[] = [];
    const other = scheduler.timer({ onTimer: () => fired.push(2) }, 2);
    const first = scheduler.timer(
      {
        onTimer: () => {
          fired.push(1);
          scheduler.cancel(other);
        },
      },
      1,
    );
    scheduler.schedule(other, 30);
    scheduler.schedule(first, 30);
    const late = scheduler.timer({ onTimer: () => fired.push(3) }, 3);
    scheduler.schedule(late, 70);
    advanceTo(500); // the event loop was blocked: one call runs all due ticks
    assert.deepEqual(fired, [1, 3]);
  });

  test('re-arming from inside the callback (a periodic tick) works on a real interval', async () => {
    const scheduler = new Scheduler({ resolutionMs: 10 });
    let ticks = 0;
    const target: TimerTarget = {
      onTimer() {
        if (++ticks < 5) scheduler.schedule(timer, 15);
      },
    };
    const timer = scheduler.timer(target, 0);
    scheduler.schedule(timer, 15);
    await eventually('five ticks', () => ticks >= 5);
    assert.equal(scheduler.size, 0);
  });

  test('10k timers: one interval, all fire once', async () => {
    const scheduler = new Scheduler({ resolutionMs: 10 });
    let fired = 0;
    const target: TimerTarget = {
      onTimer() {
        fired++;
      },
    };
    for (let i = 0; i < 10_000; i++) scheduler.schedule(scheduler.timer(target, i), i % 100);
    await eventually('every timer to fire', () => fired >= 10_000, 30_000);
    assert.equal(fired, 10_000);
    assert.equal(scheduler.size, 0);
  });
});

describe('reconnect delays', () => {
  const spec = profiles.spec;
  const vendor = profiles.vendor;

  test('spec: full jitter under an exponential bound, 1 s initial, 60 s cap', () => {
    const random = seededRandom(1);
    for (let attempt = 0; attempt < 12; attempt++) {
      const bound = Math.min(60_000, 1000 * 2 ** attempt);
      const samples = Array.from({ length: 200 }, () =>
        reconnectDelay(spec, spec.timings, random, attempt, true),
      );
      assert.ok(Math.max(...samples) <= bound);
      assert.ok(Math.min(...samples) >= 0);
      // Full jitter: spread over the whole range, not clustered at the bound.
      assert.ok(Math.max(...samples) - Math.min(...samples) > bound * 0.8, `attempt ${attempt}`);
    }
  });

  test('vendor: 5–10 s before the first login; after a loss two quick 1–3 s, then 5–10 s', () => {
    const random = seededRandom(2);
    const t = vendor.timings;
    for (let i = 0; i < 100; i++) {
      const first = reconnectDelay(vendor, t, random, i % 5, false);
      assert.ok(first >= 5000 && first < 10_000);
      for (const attempt of [0, 1]) {
        const quick = reconnectDelay(vendor, t, random, attempt, true);
        assert.ok(quick >= 1000 && quick < 3000);
      }
      const slow = reconnectDelay(vendor, t, random, 2, true);
      assert.ok(slow >= 5000 && slow < 10_000);
    }
    assert.equal(quickRetriesExhausted(vendor, t, 2, true), true);
    assert.equal(quickRetriesExhausted(vendor, t, 1, true), false);
    assert.equal(quickRetriesExhausted(spec, spec.timings, 2, true), false);
  });

  test('timing overrides are merged once and shared by devices using the same object', () => {
    const overrides = { keepaliveMs: 500 };
    const a = resolveTimings(spec, overrides);
    assert.equal(a.keepaliveMs, 500);
    assert.equal(a.rpcTimeoutMs, 20_000);
    assert.equal(resolveTimings(spec, overrides), a);
    assert.equal(resolveTimings(vendor, overrides).keepaliveMs, 500);
    assert.equal(resolveTimings(vendor, undefined).keepaliveMs, 10_000);
  });

  test('seeded randomness is repeatable per device and differs between devices', () => {
    const a = seededRandom(deviceSeed(42, 7));
    const b = seededRandom(deviceSeed(42, 7));
    const c = seededRandom(deviceSeed(42, 8));
    const xs = [a(), a(), a()];
    assert.deepEqual(xs, [b(), b(), b()]);
    assert.notDeepEqual(xs, [c(), c(), c()]);
    for (const x of xs) assert.ok(x >= 0 && x < 1);
  });
});

describe('alarm arm window and PTZ model', () => {
  test('arm window: plain, crossing midnight, empty, disabled', () => {
    const day = applyDetectConfig(defaultDetectConfig, {
      enable: true,
      start: 8 * 3600,
      end: 18 * 3600,
      sensitivity: 1,
      delay: 0,
    });
    assert.equal(isArmed(day, 12 * 3600), true);
    assert.equal(isArmed(day, 20 * 3600), false);
    const night = applyDetectConfig(day, {
      enable: true,
      start: 23 * 3600,
      end: 3600,
      sensitivity: 1,
      delay: 0,
    });
    assert.equal(isArmed(night, 23 * 3600 + 1800), true);
    assert.equal(isArmed(night, 1800), true);
    assert.equal(isArmed(night, 12 * 3600), false);
    const off = applyDetectConfig(night, { enable: false, sensitivity: 1, delay: 0 });
    assert.equal(isArmed(off, 12 * 3600), false);
    assert.equal(off.start, 0);
    assert.equal(off.end, 86_400);
    assert.equal(secondsOfDay(Date.UTC(2026, 0, 1, 3, 20, 0)), 12_000);
  });

  test('PTZ moves while commanded, stops, jumps to presets, runs tours and patrol', () => {
    const ptz = new Ptz();
    ptz.control('right', 100, 0);
    assert.equal(ptz.status(1000).pan, 50);
    ptz.control('stop', 0, 1000);
    assert.equal(ptz.status(5000).pan, 50);
    assert.equal(ptz.gotoPreset('preset-2', 3, 5000), true);
    assert.deepEqual([ptz.status(5000).pan, ptz.status(5000).tilt], presetPosition(2).slice(0, 2));
    assert.equal(ptz.gotoPreset('preset-9', 3, 5000), false);
    assert.equal(ptz.presetTour('start', 'tour-1', 2, 6000), true);
    assert.equal(ptz.status(6000).tour, 'tour-1');
    ptz.setPatrol('start', 7000);
    assert.deepEqual([ptz.status(7000).tour, ptz.status(7000).patrol], [null, true]);
    ptz.control('zoomin', 50, 7000);
    const s = ptz.status(9000);
    assert.deepEqual([s.zoom > 0, s.patrol, s.moving], [true, false, 'zoomin']);
  });
});
