import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import { Scheduler } from '../src/core/scheduler.js';
import { CloudRecorder } from '../src/media/recorder/cloud-recorder.js';
import type { RecordParams } from '../src/media/recorder/queue-rule.js';
import { eventually } from '../support/eventually.js';
import {
  count,
  ldTsPath,
  logObserver,
  type ObserverCall,
  platformRecording,
  startRig,
} from './recorder-support.js';

const scheduler = new Scheduler({ resolutionMs: 10 });
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

function listen(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

function params(cbkUrl: string): RecordParams {
  return {
    session_id: 'failing-session-0000001',
    seg_duration: 1,
    seg_max_size: 0,
    seg_max_count: 4,
    prerecord_seconds: 0,
    cbk_url: cbkUrl,
  };
}

describe('cloud recorder: failures', () => {
  test('PUT refused (failPuts): retried once on a new connection, then op=fail; nothing confirmed', async () => {
    const rig = await startRig(scheduler, { record: { failPuts: true } }, { seg_duration: 1 });
    try {
      await eventually('two failed uploads', () => rig.recorder.stats.uploadFailed >= 2, 15_000);
      await rig.stop();
      const ops = rig.tap.seen.map((t) => t.form?.get('op') ?? t.method);
      assert.deepEqual(ops.slice(0, 8), ['create', 'PUT', 'PUT', 'fail', 'create', 'PUT', 'PUT', 'fail']);
      const seen = rig.tap.seen;
      for (const k of [0, 4]) {
        const name = (JSON.parse(seen[k]!.answer) as { name: string }).name;
        assert.ok(seen[k + 1]!.path.endsWith(`/${name}`) && seen[k + 2]!.path.endsWith(`/${name}`));
        assert.equal(seen[k + 1]!.status, 500);
        assert.notEqual(seen[k + 1]!.remotePort, seen[k + 2]!.remotePort, 'the retry opens a new connection');
        assert.equal(seen[k + 3]!.form!.get('name'), name);
      }
      // Callbacks share one keep-alive connection, apart from the uploads.
      const callbackPorts = new Set(seen.filter((t) => t.method === 'POST').map((t) => t.remotePort));
      assert.equal(callbackPorts.size, 1);
      // A failed segment is not confirmed by the next create, and save names nothing uploaded.
      assert.ok(rig.tap.ops('create').every((f) => !f.has('last_file_name')));
      assert.equal(rig.tap.ops('save')[0]!.get('name'), '');
      const reasons = rig.log.filter((c) => c.kind === 'uploadFailed').map((c) => c.args[0]);
      assert.ok(reasons.length >= 2 && reasons.every((r) => r === 'http_500'));
      const summary = await platformRecording(rig);
      assert.equal(summary.fails, reasons.length);
      assert.equal(summary.segments, 0);
    } finally {
      await rig.close();
    }
  });

  test('a PUT whose connection breaks is retried after a short pause and succeeds', async () => {
    const rig = await startRig(scheduler, {}, { seg_duration: 1 });
    rig.tap.resetPuts = 1;
    try {
      await eventually('two uploads', () => rig.recorder.stats.uploaded >= 2, 15_000);
      await rig.stop();
      const ops = rig.tap.seen.map((t) => t.form?.get('op') ?? t.method);
      assert.deepEqual(ops.slice(0, 4), ['create', 'PUT', 'PUT', 'create']);
      assert.equal(rig.tap.seen[1]!.status, 0, 'the tap cut the first attempt');
      assert.equal(rig.tap.seen[2]!.status, 200);
      assert.equal(count(rig.log, 'uploadFailed'), 0);
      assert.equal(rig.tap.ops('create')[1]!.get('last_file_name'), '0001.ts');
    } finally {
      await rig.close();
    }
  });

  test('cbk_url connections reset: each create tried 3 times, after 3 failed creates the recording gives up', async () => {
    let connections = 0;
    const port = await listen(
      createTcpServer((socket) => {
        connections++;
        socket.destroy();
      }),
    );
    const log: ObserverCall[] = [];
    const failures: string[] = [];
    const recorder = new CloudRecorder({
      params: params(`ivr://127.0.0.1:${port}/record/x`),
      startTs: 1_764_000_000,
      media: ldTsPath,
      scheduler,
      observer: logObserver(log),
      onFailure: (detail) => failures.push(detail),
      maxCallbackFailures: 3,
    });
    await eventually('the recording to fail', () => failures.length > 0, 10_000);
    await recorder.closed;
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /3 callbacks to the cbk_url failed in a row .*network/);
    assert.equal(connections, 9, 'one try and two retries per create');
    assert.deepEqual(
      log.filter((c) => c.kind === 'createFailed').map((c) => c.args[0]),
      ['network', 'network', 'network'],
    );
    // Nothing is kept (no pre-record queue), nothing saved; stop afterwards reports nothing more.
    assert.equal(count(log, 'segmentDropped'), 3);
    recorder.stop();
    assert.equal(failures.length, 1);
    assert.equal(count(log, 'saved'), 0);
  });

  test('a 5xx on create is counted, not retried at once, and retried with the next segment', async () => {
    const forms: string[] = [];
    const port = await listen(
      createHttpServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => {
          body += c.toString();
        });
        req.on('end', () => {
          forms.push(body);
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end('{"info":"busy"}');
        });
      }),
    );
    const log: ObserverCall[] = [];
    const failures: string[] = [];
    const recorder = new CloudRecorder({
      params: { ...params(`http://127.0.0.1:${port}/record/y`), prerecord_seconds: 5 },
      startTs: 1_764_000_000,
      media: ldTsPath,
      scheduler,
      observer: logObserver(log),
      onFailure: (detail) => failures.push(detail),
      maxCallbackFailures: 2,
    });
    await eventually('the recording to fail', () => failures.length > 0, 10_000);
    await recorder.closed;
    assert.equal(forms.length, 2, 'one request per segment: a status is not a transport error');
    // With a pre-record queue the first segment waits and is offered again.
    assert.deepEqual(
      forms.map((f) => new URLSearchParams(f).get('start')),
      ['1764000000.000000', '1764000000.000000'],
    );
    assert.deepEqual(
      log.filter((c) => c.kind === 'createFailed').map((c) => c.args[0]),
      ['http_503', 'http_503'],
    );
    assert.match(failures[0]!, /http_503/);
  });

  test('stop while a PUT hangs: abandoned after the stop bound, then op=save', async () => {
    const ops: string[] = [];
    const server = createHttpServer((req, res) => {
      if (req.method === 'PUT') {
        ops.push('PUT');
        req.resume(); // takes the bytes, never answers
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        ops.push(`${form.get('op')}:${form.get('name') ?? ''}`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          form.get('op') === 'create' ? JSON.stringify({ name: 'a.ts', uri: `${base}/up/a.ts` }) : '{}',
        );
      });
    });
    const base = `http://127.0.0.1:${await listen(server)}`;
    const log: ObserverCall[] = [];
    const failures: string[] = [];
    const recorder = new CloudRecorder({
      params: params(`${base}/record/h`),
      startTs: 1_764_000_000,
      media: ldTsPath,
      scheduler,
      observer: logObserver(log),
      onFailure: (detail) => failures.push(detail),
      stopTimeoutMs: 300,
    });
    await eventually('the PUT', () => ops.includes('PUT'), 5000);
    const t0 = performance.now();
    recorder.stop();
    await recorder.closed;
    const waited = performance.now() - t0;
    assert.ok(waited >= 250 && waited < 3000, `closed after ${Math.round(waited)} ms`);
    assert.deepEqual(ops, ['create:', 'PUT', 'save:']);
    assert.deepEqual(
      log.filter((c) => c.kind === 'uploadFailed').map((c) => c.args[0]),
      ['timeout'],
    );
    assert.deepEqual(log.find((c) => c.kind === 'saved')?.args, [true]);
    assert.deepEqual(failures, []);
  });

  test('an invalid cbk_url fails the recording without a request', async () => {
    const failures: string[] = [];
    const recorder = new CloudRecorder({
      params: params('ftp://127.0.0.1/record/z'),
      startTs: 1_764_000_000,
      media: ldTsPath,
      scheduler,
      onFailure: (detail) => failures.push(detail),
    });
    await recorder.closed;
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /cbk_url must be ivr:\/\/, http:\/\/ or https:\/\//);
  });
});
