import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Scheduler } from '../src/core/scheduler.js';
import type { DeviceConfig } from '../src/device/config.js';
import { SimulatedDevice } from '../src/device/device.js';
import type { MediaSink } from '../src/device/media-sink.js';
import { type RunningIvc, startIvc } from '../src/ivc/index.js';
import { UploadClient } from '../src/media/recorder/upload-client.js';
import { workerInit } from '../src/run/worker-init.js';
import { loadScenario, validateScenarioFile } from '../src/scenario/index.js';
import { eventually } from '../support/eventually.js';
import { realMediaSink } from './vendor-support.js';

// Each habit of the `vendor` profile (IVR-RPC.md "Observed on the wire") against the reference
// platform, and the same device with single habits switched off. Keepalive periods are
// shortened (platform and device alike) through the existing timing knobs.

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const fastKeepalive = { keepaliveMs: 1_000 };

async function fastPlatform(): Promise<RunningIvc> {
  // An alarm delays a keepalive by up to 4 s: more than 3 shortened periods of silence.
  const ivc = await startIvc({
    keepaliveMs: 1_000,
    keepaliveToleranceMs: 300,
    firstKeepaliveMs: 1_000,
    keepaliveMissingPeriods: 6,
  });
  cleanups.push(() => ivc.close());
  return ivc;
}

function online(
  ivc: RunningIvc,
  scheduler: Scheduler,
  config: Partial<DeviceConfig> & { loginCode: string },
  media?: MediaSink,
): Promise<SimulatedDevice> {
  const d = new SimulatedDevice(
    { url: ivc.url, password: 'pw', profile: 'vendor', timings: fastKeepalive, ...config },
    { scheduler, ...(media ? { media } : {}) },
  );
  cleanups.push(() => d.stop());
  d.start();
  return eventually(
    `${config.loginCode} online`,
    () => (ivc.platform.devices.get(config.loginCode)?.keepalives ?? 0) >= 2,
  ).then(() => d);
}

const publish = (streamId: string) => ({
  channel: 0,
  quality: 'sd',
  url: `rtmp://127.0.0.1:1/live/${streamId}`,
  stream_id: streamId,
  max_bitrate: 0,
});

test('vendor answers, keepalive entries and PTZ against the reference platform: quirks, no violation', async () => {
  const ivc = await fastPlatform();
  const d = await online(ivc, new Scheduler(), { loginCode: 'habits', ptzTours: 0 });
  const c = ivc.commands;
  assert.deepEqual((await c.rpc('habits', 'RTMPPublish', publish('s1'))).resp, '');
  assert.equal((await c.rpc('habits', 'GetPTZPresetTourList', { channel: 0 })).resp, null);
  assert.deepEqual((await c.rpc('habits', 'NoSuchMethod', {}, { validate: false })).err, {
    code: 101,
    msg: 'error',
  });
  const { sessionId, answer } = await c.startCloudRecord('habits', { channel: 0 });
  assert.equal(answer.resp, '');
  assert.equal((await c.stopCloudRecord('habits', 0, sessionId)).resp, '');
  assert.equal(d.channels[0]!.record_session, sessionId, 'record_session stays after StopCloudRecord');
  c.event('habits', 'CtrlPTZ', { channel: 0, op: 'left', value: 50 });
  c.event('habits', 'CtrlPTZ', { channel: 0, op: 'stop' });
  await eventually('the PTZ move', () => d.ptzStatus(0)?.moving === 'left');
  const record = ivc.platform.devices.get('habits')!;
  await eventually(
    'the keepalive quirks',
    () =>
      (record.vendorQuirks?.keepalive_no_stream_id ?? 0) === 1 &&
      (record.vendorQuirks?.record_session_after_stop ?? 0) === 1,
  );
  assert.equal(record.channels[0]!.state, 2, 'live');
  assert.equal(record.channels[0]!.stream_id, '', 'without stream_id in its keepalive');
  assert.equal(d.ptzStatus(0)?.moving, 'left', 'a stop without value is ignored');
  // An alarm takes the keepalive's turn: the next one comes 2–4 s late.
  assert.ok(d.raiseAlarm(0, 2, 60_000));
  await eventually(
    'the late keepalive after the alarm',
    () => (record.vendorQuirks?.keepalive_late_after_alarm ?? 0) === 1,
    8_000,
  );
  assert.equal(record.vendorQuirks?.answer_empty_string, 3);
  assert.equal(record.vendorQuirks?.answer_null_list, 1);
  assert.equal(record.violations, null, 'nothing the vendor firmware does is a violation');
});

test('the same device with single habits switched off answers as the document says', async () => {
  const ivc = await fastPlatform();
  const d = await online(ivc, new Scheduler(), {
    loginCode: 'habits-off',
    ptzTours: 0,
    traits: {
      emptyAnswerString: false,
      nullEmptyTourList: false,
      plainUnsupported: false,
      ptzStopNeedsValue: false,
    },
  });
  const c = ivc.commands;
  assert.deepEqual((await c.rpc('habits-off', 'RTMPPublish', publish('s2'))).resp, {});
  assert.deepEqual((await c.rpc('habits-off', 'GetPTZPresetTourList', { channel: 0 })).resp, []);
  const err = (await c.rpc('habits-off', 'NoSuchMethod', {}, { validate: false })).err;
  assert.equal(err?.code, 101);
  assert.notEqual(err?.msg, 'error');
  c.event('habits-off', 'CtrlPTZ', { channel: 0, op: 'left', value: 50 });
  c.event('habits-off', 'CtrlPTZ', { channel: 0, op: 'stop' });
  await eventually('the PTZ stopped', () => d.ptzStatus(0)?.moving === null);
  assert.equal(d.traits.loginKeepalivePair, true, 'the other habits stay');
});

test('the vendor uploads no alarm picture; a spec device does', async () => {
  const ivc = await fastPlatform();
  const scheduler = new Scheduler();
  const sink = realMediaSink(scheduler, cleanups);
  const vendor = await online(ivc, scheduler, { loginCode: 'pic-vendor' }, sink);
  const spec = await online(ivc, scheduler, { loginCode: 'pic-spec', profile: 'spec' }, sink);
  assert.ok(vendor.raiseAlarm(0, 2, 500));
  assert.ok(spec.raiseAlarm(0, 2, 500));
  await eventually('the spec picture', () => ivc.platform.devices.get('pic-spec')!.alarmPictures === 1);
  await eventually('both alarms ended', () => ivc.platform.stats.alarms === 4, 5_000);
  assert.equal(ivc.platform.devices.get('pic-vendor')!.alarms, 2);
  assert.equal(ivc.platform.devices.get('pic-vendor')!.alarmPictures, 0);
});

test('the vendor segment writer opens a new TCP connection for every POST and PUT', async () => {
  let connections = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(req.method === 'POST' ? '{"name":"0001.ts","uri":"x"}' : '{}');
    });
  });
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  const port = (server.address() as AddressInfo).port;
  const scheduler = new Scheduler();
  const run = async (connectionPerRequest: boolean): Promise<number> => {
    const before = connections;
    const client = new UploadClient({
      cbkUrl: `ivr://127.0.0.1:${port}/record/s`,
      scheduler,
      connectionPerRequest,
    });
    const segment = { size: 4, start: 1_764_000_000, durationSec: 1 };
    for (let i = 0; i < 2; i++) {
      assert.equal((await client.create(segment, '')).ok, true);
      assert.equal(
        (await client.put(`http://127.0.0.1:${port}/upload/s/000${i}.ts`, new Uint8Array(4), 0)).ok,
        true,
      );
    }
    await client.close();
    return connections - before;
  };
  assert.equal(await run(true), 4, 'two POSTs and two PUTs, four connections');
  assert.equal(await run(false), 2, 'keep-alive: one connection for the POSTs, one for the PUTs');
});

test('a scenario takes profile: vendor with single habits switched, and a strict embedded platform', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-traits-'));
  const file = join(dir, 'traits.yaml');
  const body = (traits: string) =>
    `name: traits\ndevices:\n  count: 10\n  mix:\n    - { weight: 7, profile: vendor, traits: ${traits} }\n    - { weight: 3, profile: spec }\nstages:\n  - { duration: 5s, target: 10 }\nplatform: { strict: true }\n`;
  writeFileSync(file, body('{ malformedClose: false }'));
  const s = loadScenario(file, { env: {} });
  assert.deepEqual(s.devices.mix[0]!.traits, { malformedClose: false });
  assert.equal(s.devices.mix[1]!.traits, null);
  assert.equal(s.platform?.strict, true);
  const init = workerInit(s, { ivc: null, mediaDir: '' }, 0, []);
  assert.deepEqual(
    Object.values(init.traits),
    [{ malformedClose: false }],
    'handed to the workers by mix entry',
  );
  writeFileSync(file, body('{ malformedClos: false }'));
  const result = validateScenarioFile(file);
  assert.equal(result.ok, false);
  const problem = result.ok
    ? null
    : result.errors.find((p) => p.path === 'devices.mix[0].traits.malformedClos');
  assert.ok(problem, 'the unknown trait is named by its path');
  assert.equal(problem.line, 5);
  assert.match(problem.message, /did you mean `malformedClose`/);
});
