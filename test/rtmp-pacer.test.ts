import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PacedStream, PublishScheduler } from '../src/media/rtmp/pacer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Counter implements PacedStream {
  served = 0;
  serve(): void {
    this.served++;
  }
}

test('one timer serves every stream once per window; slices split them into balanced groups', async () => {
  const perTick: number[] = [];
  const s = new PublishScheduler({ windowMs: 100, slices: 4, onTick: (_late, _busy, n) => perTick.push(n) });
  assert.equal(s.periodMs, 25);
  const streams = Array.from({ length: 10 }, () => new Counter());
  for (const c of streams) s.add(c);
  assert.equal(s.size, 10);
  await sleep(1000);
  const removed = streams[0] as Counter;
  s.remove(removed);
  const before = removed.served;
  await sleep(300);
  s.close();
  assert.equal(removed.served, before, 'a removed stream is not served again');
  // ~10 windows in 1 s; generous bounds: only "once per window, not per tick" is asserted.
  for (const c of streams.slice(1)) assert.ok(c.served >= 5 && c.served <= 14, `served ${c.served} times`);
  assert.ok(Math.max(...perTick) <= 3, `groups of ≤ 3 (10 streams / 4 slices): ${Math.max(...perTick)}`);
});

test('the window and slices are validated', () => {
  assert.throws(() => new PublishScheduler({ windowMs: 5 }), RangeError);
  assert.throws(() => new PublishScheduler({ windowMs: 100, slices: 0 }), RangeError);
  assert.throws(() => new PublishScheduler({ windowMs: 20, slices: 8 }), RangeError);
});
