import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Scheduler } from '../src/core/scheduler.js';
import { TsChecker } from '../src/ivc/index.js';
import { eventually } from '../support/eventually.js';
import { count, platformRecording, recordViolations, startRig } from './recorder-support.js';

const scheduler = new Scheduler({ resolutionMs: 10 });
const tmp = mkdtempSync(join(tmpdir(), 'ivt-rec-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const START_TS = 1_764_000_000;

describe('cloud recorder: the cbk_url flow against the reference IVC', () => {
  test('segments are created with a chained last_file_name, uploaded paced, valid TS, and saved', async () => {
    const rig = await startRig(
      scheduler,
      {},
      { seg_duration: 2, prerecord_seconds: 0, seg_max_count: 4, start_ts: START_TS },
    );
    try {
      await eventually('three uploads', () => rig.recorder.stats.uploaded >= 3, 15_000);
      await rig.stop();

      const creates = rig.tap.ops('create');
      const puts = rig.tap.puts();
      // Stopping ≥ 1 s after the last cut makes the part recorded since then a last segment.
      // (3, or more on a slow machine: the stop arrives after the next cut.)
      const n = puts.length;
      assert.ok(n >= 3, `${n} PUTs`);
      assert.equal(creates.length, n, 'one create and one PUT per segment, no retry needed');
      const names = rig.tap.seen
        .filter((t) => t.form?.get('op') === 'create')
        .map((t) => (JSON.parse(t.answer) as { name: string }).name);
      assert.deepEqual(
        names,
        names.map((_, k) => `${String(k + 1).padStart(4, '0')}.ts`),
      );
      // The first create confirms nothing; each later one confirms the previous upload.
      assert.equal(creates[0]!.has('last_file_name'), false);
      assert.deepEqual(
        creates.slice(1).map((f) => f.get('last_file_name')),
        names.slice(0, -1),
      );
      // start = start_ts + media time, continuous: each start is the previous start + duration.
      let expected = START_TS;
      creates.forEach((f, k) => {
        assert.equal(f.get('content_type'), 'video/mp2t');
        assert.equal(f.get('start'), expected.toFixed(6), `start of segment ${k}`);
        assert.equal(f.get('duration'), '2.000000', 'ld has 1 s GOPs: whole seconds are exact');
        assert.equal(Number(f.get('size')), puts[k]!.body.length, 'size announced = bytes PUT');
        expected += Number(f.get('duration'));
      });
      for (const put of puts) {
        assert.equal(put.contentType, 'video/mp2t');
        assert.equal(put.contentLength, String(put.body.length));
        const checker = new TsChecker();
        checker.push(put.body);
        assert.equal(checker.finish(), true, checker.firstError);
        assert.deepEqual(JSON.parse(put.answer), {
          name: put.path.split('/').pop(),
          bytes: put.body.length,
          valid_ts: true,
        });
        // 0.8 × 2 s nominal; a loose lower bound, the upload must not go out at line rate.
        assert.ok(put.endAt - put.firstByteAt >= 1000, `PUT spread over ${put.endAt - put.firstByteAt} ms`);
      }
      const uploads = rig.log.filter((c) => c.kind === 'segmentUploaded');
      assert.ok(
        uploads.every((c) => (c.args[0] as number) >= 1000),
        'upload latency includes the pacing',
      );

      // Stop: op=save names the last uploaded segment, and the platform agrees on every count.
      const last = rig.tap.seen.at(-1)!.form!;
      assert.equal(last.get('op'), 'save');
      assert.equal(last.get('name'), names.at(-1));
      assert.deepEqual(await platformRecording(rig), {
        session_id: rig.sessionId,
        login_code: rig.loginCode,
        creates: n,
        segments: n,
        bytes: puts.reduce((n, p) => n + p.body.length, 0),
        fails: 0,
        saved: true,
        last_name: names.at(-1),
      });
      assert.deepEqual(await recordViolations(rig), {});
      assert.equal(count(rig.log, 'saved'), 1);
      assert.deepEqual(rig.log.find((c) => c.kind === 'saved')!.args, [true]);
      assert.equal(count(rig.log, 'segmentCreated'), n);
      assert.equal(count(rig.log, 'createFailed'), 0);

      // The uploaded segments, concatenated, are one clean stream with continuous timestamps.
      const file = join(tmp, 'all.ts');
      writeFileSync(file, Buffer.concat(puts.map((p) => p.body)));
      const decode = spawnSync('ffmpeg', ['-hide_banner', '-v', 'warning', '-i', file, '-f', 'null', '-'], {
        encoding: 'utf8',
      });
      assert.equal(decode.status, 0, decode.stderr);
      assert.equal(decode.stderr.trim(), '', 'ffmpeg decodes the whole recording without a warning');
      const probed = JSON.parse(
        execFileSync('ffprobe', [
          '-v',
          'error',
          '-show_entries',
          'stream=index,codec_type:packet=stream_index,pts',
          '-of',
          'json',
          file,
        ]).toString(),
      ) as {
        streams: { index: number; codec_type: string }[];
        packets: { stream_index: number; pts: number }[];
      };
      const video = probed.streams.find((s) => s.codec_type === 'video')!.index;
      const pts = probed.packets.filter((p) => p.stream_index === video).map((p) => p.pts);
      assert.equal(pts.length, n * 2 * 25, `${n} × 2 s of 25 fps video`);
      for (let i = 1; i < pts.length; i++)
        assert.equal(pts[i]! - pts[i - 1]!, 3600, `video step at frame ${i}`);
    } finally {
      await rig.close();
    }
  });

  test('seg_max_size: segments end at the last key frame under the cap, still continuous', async () => {
    // ld is ≈ 41 kB per 1 s GOP: a 2 s segment (≈ 83 kB) does not fit in 60 000 bytes, one GOP does.
    const rig = await startRig(scheduler, {}, { seg_duration: 2, seg_max_size: 60_000, start_ts: START_TS });
    try {
      await eventually('three uploads', () => rig.recorder.stats.uploaded >= 3, 15_000);
      await rig.stop();
      const creates = rig.tap.ops('create');
      let expected = START_TS;
      for (const f of creates) {
        assert.ok(Number(f.get('size')) <= 60_000, `size ${f.get('size')}`);
        assert.equal(f.get('duration'), '1.000000');
        assert.equal(f.get('start'), expected.toFixed(6));
        expected += 1;
      }
      assert.deepEqual(await recordViolations(rig), {});
    } finally {
      await rig.close();
    }
  });

  test('stop while an upload is in flight: it finishes, then op=save names it', async () => {
    const rig = await startRig(scheduler, {}, { seg_duration: 2, start_ts: START_TS });
    try {
      await eventually(
        'first create',
        () => rig.tap.seen.some((t) => t.form?.get('op') === 'create'),
        10_000,
      );
      // The first PUT is being paced now (≈ 1.6 s); stop in the middle of it.
      await rig.stop();
      const ops = rig.tap.seen.map((t) => t.form?.get('op') ?? t.method);
      // (A slow machine may stop ≥ 1 s after the cut: then a last short segment follows.)
      assert.deepEqual(ops.slice(0, 2), ['create', 'PUT']);
      assert.equal(ops.at(-1), 'save');
      assert.ok(ops.length === 3 || ops.length === 5, ops.join(' '));
      const puts = rig.tap.puts();
      assert.ok(puts.every((p) => p.status === 200));
      assert.equal(rig.recorder.stats.uploaded, puts.length);
      assert.ok(
        puts.at(-1)!.path.endsWith(`/${rig.tap.seen.at(-1)!.form!.get('name')}`),
        'save names the last upload',
      );
      // Stopping again changes nothing.
      rig.recorder.stop();
      await rig.recorder.closed;
      assert.equal(count(rig.log, 'saved'), 1);
    } finally {
      await rig.close();
    }
  });
});
