import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Scheduler } from '../src/core/scheduler.js';
import { eventually } from '../support/eventually.js';
import { count, platformRecording, recordViolations, startRig } from './recorder-support.js';

const scheduler = new Scheduler({ resolutionMs: 10 });
const START_TS = 1_764_000_000;

/** The `start` of every create that got a name, in order (what was uploaded, when). */
function namedStarts(rig: Awaited<ReturnType<typeof startRig>>): number[] {
  return rig.tap.seen
    .filter((t) => t.form?.get('op') === 'create' && (JSON.parse(t.answer) as { name: string }).name !== '')
    .map((t) => Number(t.form!.get('start')) - START_TS);
}

describe('cloud recorder: pre-recording queue', () => {
  test('segments refused with "not now" wait and are uploaded later, oldest first, none lost', async () => {
    // Queue limit min(ceil(3 / 1), 5 - 1) = 3 ≥ the 2 empty answers: nothing is dropped.
    const rig = await startRig(
      scheduler,
      { record: { emptyCreates: 2 } },
      { seg_duration: 1, prerecord_seconds: 3, seg_max_count: 5, start_ts: START_TS },
      // A farm spreads its devices over loopback source addresses.
      { localAddress: '127.0.0.2' },
    );
    try {
      await eventually('five uploads', () => rig.recorder.stats.uploaded >= 5, 15_000);
      await rig.stop();
      const creates = rig.tap.ops('create');
      // The oldest waiting segment is offered again each time a new one is cut.
      assert.deepEqual(
        creates.slice(0, 3).map((f) => f.get('start')),
        [START_TS, START_TS, START_TS].map((s) => s.toFixed(6)),
      );
      const starts = namedStarts(rig);
      assert.deepEqual(
        starts,
        starts.map((_, k) => k),
        'uploaded in order with continuous starts',
      );
      assert.equal(count(rig.log, 'createDeferred'), 2);
      assert.ok(
        rig.tap.seen.every((t) => t.remoteAddress.endsWith('127.0.0.2')),
        'bound to localAddress',
      );
      assert.equal(count(rig.log, 'segmentDropped'), 0);
      const summary = await platformRecording(rig);
      assert.equal(summary.segments, starts.length);
      assert.equal(summary.saved, true);
      assert.deepEqual(await recordViolations(rig), {});
      // Queued segments go out faster (0.5 × duration) than the one that waits for nobody (0.8 ×);
      // both are paced, not sent at line rate.
      const ms = rig.log.filter((c) => c.kind === 'segmentUploaded').map((c) => c.args[0] as number);
      assert.ok(
        ms.every((t) => t >= 400),
        `upload times ${ms.map(Math.round).join(', ')} ms`,
      );
    } finally {
      await rig.close();
    }
  });

  test('more "not now" answers than the queue holds: the newest segments are dropped and counted', async () => {
    // Queue limit min(ceil(2 / 1), 3 - 1) = 2; 5 empty answers → 5 - 2 = 3 drops (segments 3, 4, 5).
    const rig = await startRig(
      scheduler,
      { record: { emptyCreates: 5 } },
      { seg_duration: 1, prerecord_seconds: 2, seg_max_count: 3, start_ts: START_TS },
    );
    try {
      await eventually('three uploads', () => rig.recorder.stats.uploaded >= 3, 15_000);
      await rig.stop();
      assert.deepEqual(namedStarts(rig).slice(0, 3), [0, 1, 5]);
      assert.equal(count(rig.log, 'createDeferred'), 5);
      const drops = rig.log.filter((c) => c.kind === 'segmentDropped').map((c) => c.args[0]);
      assert.deepEqual(drops, ['queue_full', 'queue_full', 'queue_full']);
      assert.equal(rig.recorder.stats.dropped, 3);
      assert.deepEqual(await recordViolations(rig), {});
    } finally {
      await rig.close();
    }
  });
});
