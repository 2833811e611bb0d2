import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PacedStream, PublishScheduler } from '../src/media/rtmp/pacer.js';
import { eventually } from '../support/eventually.js';

/** Polls until `done` (generous deadline: only a stopped scheduler fails it). */
function ticks(done: () => boolean): Promise<true> {
  return eventually('the scheduler to tick', done, 30_000, 5);
}

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
  // Counted in ticks, not in wall time: a busy machine fires fewer ticks, never other groups.
  await ticks(() => perTick.length >= 40);
  const seen = perTick.length;
  for (const c of streams) {
    assert.ok(
      c.served >= Math.floor(seen / 4) && c.served <= Math.ceil(seen / 4),
      `served ${c.served} times in ${seen} ticks: once per window of 4 ticks`,
    );
  }
  const removed = streams[0] as Counter;
  s.remove(removed);
  const before = removed.served;
  const other = streams[1] as Counter;
  const otherBefore = other.served;
  await ticks(() => perTick.length >= seen + 12);
  s.close();
  assert.equal(removed.served, before, 'a removed stream is not served again');
  assert.ok(other.served >= otherBefore + 3, 'the others still are, once per window');
  assert.ok(Math.max(...perTick) <= 3, `groups of ≤ 3 (10 streams / 4 slices): ${Math.max(...perTick)}`);
});

test('the window and slices are validated', () => {
  assert.throws(() => new PublishScheduler({ windowMs: 5 }), RangeError);
  assert.throws(() => new PublishScheduler({ windowMs: 100, slices: 0 }), RangeError);
  assert.throws(() => new PublishScheduler({ windowMs: 20, slices: 8 }), RangeError);
});
