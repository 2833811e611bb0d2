import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { Scheduler } from '../src/core/scheduler.js';
import { type RunningIvc, startIvc } from '../src/ivc/index.js';
import { loadCatalogue } from '../src/media/catalogue.js';
import { sharedAlarmJpeg, uploadAlarmPicture } from '../src/media/recorder/alarm-picture.js';
import type { AlarmPictureObserver } from '../src/media/recorder/observer.js';
import { PacedBody } from '../src/media/recorder/paced-body.js';
import { busyQueueLimit, prerecordQueueLimit } from '../src/media/recorder/queue-rule.js';
import { createForm, resolveCbkUrl } from '../src/media/recorder/upload-client.js';
import type { CloseInfo } from '../src/protocol/close-reason.js';
import { type PeerHandler, RpcPeer } from '../src/protocol/peer.js';

const scheduler = new Scheduler({ resolutionMs: 10 });

describe('recorder rules', () => {
  test('queue limit is min(ceil(prerecord / seg_duration), seg_max_count - 1), never negative', () => {
    const q = (prerecord_seconds: number, seg_duration: number, seg_max_count: number) =>
      prerecordQueueLimit({ prerecord_seconds, seg_duration, seg_max_count });
    assert.equal(q(0, 10, 4), 0);
    assert.equal(q(5, 10, 4), 1);
    assert.equal(q(10, 10, 4), 1);
    assert.equal(q(11, 10, 4), 2);
    assert.equal(q(60, 10, 4), 3, 'capped by memory: seg_max_count - 1');
    assert.equal(q(60, 10, 0), 0);
    assert.equal(q(60, 10, 1), 0);
    assert.equal(busyQueueLimit({ seg_max_count: 4 }), 3);
    assert.equal(busyQueueLimit({ seg_max_count: 0 }), 1);
  });

  test('cbk_url: ivr:// is plain http; other schemes are refused', () => {
    assert.equal(
      resolveCbkUrl('ivr://ivc.example:8080/record/s?x=1').href,
      'http://ivc.example:8080/record/s?x=1',
    );
    assert.equal(resolveCbkUrl('IVR://h/p').protocol, 'http:');
    assert.equal(resolveCbkUrl('https://h/p').protocol, 'https:');
    assert.throws(() => resolveCbkUrl('rtmp://h/p'), /cbk_url must be/);
    assert.throws(() => resolveCbkUrl('not a url'));
  });

  test('create form: 6 decimals, last_file_name only after the first', () => {
    assert.equal(
      createForm({ size: 1880, start: 1764000000.04, durationSec: 10 }, ''),
      'op=create&content_type=video%2Fmp2t&size=1880&start=1764000000.040000&duration=10.000000',
    );
    assert.equal(
      createForm({ size: 188, start: 1, durationSec: 1.5 }, '0001.ts'),
      'op=create&content_type=video%2Fmp2t&size=188&start=1.000000&duration=1.500000&last_file_name=0001.ts',
    );
  });
});

describe('paced body', () => {
  test('releases every byte, in order, spread over the given time', async () => {
    const bytes = Buffer.alloc(100_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i & 0xff;
    const got: Buffer[] = [];
    const at: number[] = [];
    const t0 = performance.now();
    await pipeline(
      new PacedBody(bytes, { durationMs: 800, scheduler, stepMs: 100 }),
      new Writable({
        write(chunk: Buffer, _enc, done) {
          got.push(chunk);
          at.push(performance.now() - t0);
          done();
        },
      }),
    );
    assert.deepEqual(Buffer.concat(got), bytes);
    // One release per step (800 / 100 = 8), not a dribble of tiny writes as the consumer asks; a
    // late step on a busy machine releases more at once, so only "more than one" is a floor.
    assert.ok(got.length >= 2 && got.length <= 10, `${got.length} writes`);
    assert.ok(at.at(-1)! >= 700, `last byte after ${at.at(-1)} ms`);
    assert.ok(at[0]! >= 50, 'nothing before the first step');
  });

  test('duration 0 sends at once; an empty body just ends', async () => {
    const chunks: Buffer[] = [];
    await pipeline(
      new PacedBody(Buffer.from('abc'), { durationMs: 0, scheduler }),
      new Writable({
        write(c: Buffer, _e, done) {
          chunks.push(c);
          done();
        },
      }),
    );
    assert.equal(Buffer.concat(chunks).toString(), 'abc');
    const empty = new PacedBody(Buffer.alloc(0), { durationMs: 500, scheduler });
    for await (const _ of empty) assert.fail('no data expected');
  });

  test('destroying it mid-way cancels its timer', async () => {
    const body = new PacedBody(Buffer.alloc(10_000), { durationMs: 5000, scheduler });
    body.resume();
    await new Promise((r) => setTimeout(r, 50));
    const before = scheduler.size;
    body.destroy();
    assert.equal(scheduler.size, before - 1);
  });
});

describe('alarm picture upload', () => {
  const running: RunningIvc[] = [];
  after(async () => {
    await Promise.all(running.map((ivc) => ivc.close()));
  });

  class Quiet implements PeerHandler {
    handleRequest(): unknown {
      return {};
    }
    handleEvent(): void {}
    onPeerClose(_info: CloseInfo): void {}
  }

  test('one POST of the shared JPEG reaches the platform and is counted; failures are reported', async () => {
    const ivc = await startIvc({ port: 0 });
    running.push(ivc);
    const q = new URLSearchParams({
      login_code: 'cam-1',
      login_passwd: 'x',
      hardware_model: 'h',
      firmware_model: 'f',
    });
    const ws = new WebSocket(`${ivc.url}?${q}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const peer = new RpcPeer(ws, new Quiet());
    // The URL comes from the platform's AlarmNotify answer, as on a real device.
    const answer = (await peer.call('AlarmNotify', {
      channel: 0,
      type: 3,
      state: 'start',
      desc: 'motion',
    })) as {
      pic_upload_url: string;
    };
    const path = loadCatalogue().alarmJpegPath!;
    const jpeg = sharedAlarmJpeg(path);
    assert.equal(sharedAlarmJpeg(path), jpeg, 'loaded once, shared');
    assert.deepEqual(jpeg, readFileSync(path));

    const ok: number[][] = [];
    const failed: string[] = [];
    const observer: AlarmPictureObserver = {
      alarmPictureUploaded: (ms, bytes) => ok.push([ms, bytes]),
      alarmPictureFailed: (reason) => failed.push(reason),
    };
    assert.equal(await uploadAlarmPicture(answer.pic_upload_url, jpeg, observer), true);
    assert.equal(ok.length, 1);
    assert.equal(ok[0]![1], jpeg.length);
    const stats = (await (await fetch(`${ivc.httpUrl}/api/stats`)).json()) as {
      alarm_pictures: { count: number; bytes: number };
    };
    assert.deepEqual(stats.alarm_pictures, { count: 1, bytes: jpeg.length });

    // Empty url: no upload, nothing reported.
    assert.equal(await uploadAlarmPicture('', jpeg, observer), false);
    // Not a JPEG → the platform answers 400; an unknown device → 404; nobody listening → network.
    assert.equal(await uploadAlarmPicture(answer.pic_upload_url, Buffer.from('GIF89a'), observer), false);
    assert.equal(await uploadAlarmPicture(`${ivc.httpUrl}/upload/alarm/nobody/0`, jpeg, observer), false);
    assert.equal(await uploadAlarmPicture('http://127.0.0.1:1/upload/alarm/x/0', jpeg, observer), false);
    assert.deepEqual(failed, ['http_400', 'http_404', 'network']);
    assert.equal(ok.length, 1);
    ws.close();
  });
});
