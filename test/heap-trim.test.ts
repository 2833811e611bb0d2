import assert from 'node:assert/strict';
import { test } from 'node:test';
import { committedHeap, HeapTrimmer } from '../src/core/heap-trim.js';

/** What a login burst leaves: many objects promoted to the old generation, most of them dead after. */
function burst(): object[] {
  const all: Array<{ i: number; s: string; peer: object } | null> = [];
  for (let i = 0; i < 600_000; i++) all.push({ i, s: `device-${i}`, peer: { seq: i } });
  // Every 20th survives (the devices), scattered over every page the burst filled.
  return all.filter((_, i) => i % 20 === 0) as object[];
}

test('the heap a burst left behind is given back once the activity holds still, and only then', async () => {
  const trims: Array<{ freed: number; pauseMs: number }> = [];
  const trimmer = new HeapTrimmer({ trimmed: (freed, pauseMs) => trims.push({ freed, pauseMs }) });
  let now = 0;
  const tick = (activity: number) => {
    now += 1000;
    return trimmer.tick(activity, false, now);
  };
  await tick(0); // the baseline: the heap before the burst
  const before = committedHeap();
  const survivors = burst();
  const grown = committedHeap();
  assert.ok(grown - before > 40 * 2 ** 20, `the burst grew the heap by ${(grown - before) / 2 ** 20} MiB`);

  // Devices still logging in: the figure moves every second, so no pause is taken.
  for (let online = 1; online <= 5; online++) assert.equal(await tick(online * 100), false);
  // The online count holds still while logins are still in flight (a slow platform): no pause.
  for (let i = 0; i < 5; i++) {
    now += 1000;
    assert.equal(await trimmer.tick(500, true, now), false);
  }
  // It holds still with nothing in flight: two quiet seconds are not enough, the third trims.
  assert.equal(await tick(500), false);
  assert.equal(await tick(500), false);
  assert.equal(await tick(500), true);
  assert.equal(trims.length, 1);
  const after = committedHeap();
  assert.ok(
    grown - after > 30 * 2 ** 20,
    `given back ${(grown - after) / 2 ** 20} MiB of ${(grown - before) / 2 ** 20}`,
  );
  assert.ok(trims[0]!.freed > 30 * 2 ** 20);
  assert.equal(survivors.length, 30_000); // the live objects were kept, of course

  // Once trimmed, the same heap is not trimmed again: nothing grew since.
  for (let i = 0; i < 70; i++) assert.equal(await tick(500), false);
  assert.equal(trims.length, 1);
});

test('a second burst within a minute of the last trim waits for the minute to pass', async () => {
  let trims = 0;
  const trimmer = new HeapTrimmer({ minGapMs: 60_000, trimmed: () => trims++ });
  let now = 0;
  const quietFor = async (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      now += 1000;
      await trimmer.tick(1, false, now);
    }
  };
  await quietFor(1);
  let kept = burst();
  await quietFor(4);
  assert.equal(trims, 1);
  kept = kept.concat(burst());
  await quietFor(30); // 35 s after the first trim
  assert.equal(trims, 1);
  await quietFor(30);
  assert.equal(trims, 2);
  assert.equal(kept.length, 60_000);
});
