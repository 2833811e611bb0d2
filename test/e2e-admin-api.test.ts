import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Scheduler } from '../src/core/scheduler.js';
import { SimulatedDevice } from '../src/device/device.js';
import { type RunningIvc, startIvc } from '../src/ivc/server.js';
import { eventually } from '../support/eventually.js';

/**
 * Every IVT method and event, sent by a person or script through the reference platform's admin
 * API (real HTTP → platform → real WebSocket → simulated device → answer back).
 */
const PASSWORD = 'admin-api-e2e-pw';
let ivc: RunningIvc;
let nvr: SimulatedDevice;
let camera: SimulatedDevice;
const scheduler = new Scheduler();
const timings = { keepaliveMs: 400, rebootMs: 600, upgradeMs: 500, backoffInitialMs: 50, backoffCapMs: 200 };

interface Answer {
  status: number;
  body: { seq?: number; resp?: unknown; err?: { code: number; msg: string }; error?: string };
}

async function rpc(loginCode: string, req: string, params?: unknown, query = ''): Promise<Answer> {
  const r = await fetch(`${ivc.httpUrl}/api/devices/${loginCode}/rpc${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params === undefined ? { req } : { req, params }),
  });
  return { status: r.status, body: (await r.json()) as Answer['body'] };
}

async function event(loginCode: string, name: string, params?: unknown): Promise<number> {
  const r = await fetch(`${ivc.httpUrl}/api/devices/${loginCode}/event`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params === undefined ? { event: name } : { event: name, params }),
  });
  await r.arrayBuffer();
  return r.status;
}

async function apiDevice(loginCode: string): Promise<{
  online: boolean;
  firmware_model: string;
  channels: Array<{
    channel: number;
    state: number;
    stream_id?: string;
    record_session?: string;
    alarm?: number;
  }>;
}> {
  return (await fetch(`${ivc.httpUrl}/api/devices/${loginCode}`)).json() as never;
}

before(async () => {
  ivc = await startIvc({
    port: 0,
    auth: { password: PASSWORD },
    keepaliveMs: timings.keepaliveMs,
    firmware: [{ firmware_model: 'ivc-fw-9.9.9', size: 64 * 1024 }],
  });
  const make = (loginCode: string, kind: 'camera' | 'nvr', channels: number) =>
    new SimulatedDevice(
      { url: ivc.url, loginCode, password: PASSWORD, kind, channels, timings, firmwareModel: 'sim-1.0.0' },
      { scheduler },
    );
  nvr = make('e2e-nvr', 'nvr', 4);
  camera = make('e2e-cam', 'camera', 1);
  nvr.start();
  camera.start();
  await eventually(
    'both online',
    async () => (await apiDevice('e2e-nvr')).online && (await apiDevice('e2e-cam')).online,
  );
});

after(async () => {
  await Promise.all([nvr.stop(), camera.stop()]);
  await ivc.close();
});

describe('IVT methods through POST /api/devices/{code}/rpc', () => {
  test('RTMPPublish: {} then keepalive state 2 + stream_id; a second publish → 12; too high a bitrate → 11; stop', async () => {
    const publish = {
      channel: 1,
      quality: 'hd',
      url: 'rtmp://127.0.0.1:1/live/x',
      stream_id: 'e2e-s1',
      max_bitrate: 0,
    };
    assert.deepEqual((await rpc('e2e-nvr', 'RTMPPublish', publish)).body.resp, {});
    assert.deepEqual((await rpc('e2e-nvr', 'RTMPPublish', publish)).body.resp, {}, 'same stream again: {}');
    assert.equal(
      (await rpc('e2e-nvr', 'RTMPPublish', { ...publish, stream_id: 'other' })).body.err?.code,
      12,
    );
    const tooHigh = { ...publish, channel: 2, stream_id: 'e2e-s2', max_bitrate: 1_000_000 };
    assert.equal((await rpc('e2e-nvr', 'RTMPPublish', tooHigh)).body.err?.code, 11);
    const ch = await eventually('channel 1 live in a keepalive', async () =>
      (await apiDevice('e2e-nvr')).channels.find((c) => c.channel === 1 && c.state === 2),
    );
    assert.equal(ch.stream_id, 'e2e-s1');
    assert.deepEqual(
      (await rpc('e2e-nvr', 'RTMPStopPublish', { channel: 1, stream_id: 'e2e-s1' })).body.resp,
      {},
    );
    await eventually('channel 1 back to state 1', async () =>
      (await apiDevice('e2e-nvr')).channels.find((c) => c.channel === 1 && c.state === 1 && !c.stream_id),
    );
  });

  test('StartCloudRecord / StopCloudRecord: record_session in keepalives; bitrate check → 11', async () => {
    const params = {
      session_id: 'abcdefghijklmnopqrstuv',
      channel: 0,
      quality: 'ld',
      max_bitrate: 0,
      seg_duration: 4,
      seg_max_size: 4 * 1024 * 1024,
      seg_max_count: 3,
      prerecord_seconds: 0,
      start_ts: 0,
      cbk_url: `${ivc.httpUrl}/record/abcdefghijklmnopqrstuv`,
    };
    assert.deepEqual((await rpc('e2e-nvr', 'StartCloudRecord', params)).body.resp, {});
    await eventually('record_session reported', async () =>
      (await apiDevice('e2e-nvr')).channels.find((c) => c.record_session === params.session_id),
    );
    const tooHigh = {
      ...params,
      channel: 3,
      session_id: 'zzzzzzzzzzzzzzzzzzzzzz',
      quality: 'fhd',
      max_bitrate: 100_000,
    };
    assert.equal((await rpc('e2e-nvr', 'StartCloudRecord', tooHigh)).body.err?.code, 11);
    assert.deepEqual(
      (await rpc('e2e-nvr', 'StopCloudRecord', { channel: 0, session_id: params.session_id })).body.resp,
      {},
    );
    await eventually('record_session cleared', async () =>
      (await apiDevice('e2e-nvr')).channels.every((c) => !c.record_session),
    );
  });

  test('PTZ preset and tour lists, net config, RTMP publish config kept, Wi-Fi', async () => {
    const presets = (await rpc('e2e-nvr', 'GetPTZPresetList', { channel: 0 })).body.resp as Array<{
      token: string;
    }>;
    assert.ok(presets.length > 0 && typeof presets[0]!.token === 'string');
    const tours = (await rpc('e2e-nvr', 'GetPTZPresetTourList', { channel: 0 })).body.resp as unknown[];
    assert.ok(Array.isArray(tours) && tours.length > 0);
    const net = (await rpc('e2e-nvr', 'GetNetConfig', { channel: 0 })).body.resp as Array<{
      mac: string;
      dhcp: boolean;
    }>;
    assert.match(net[0]!.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i);

    const config = [
      { enable: true, channel: 0, quality: 'sd', url: 'rtmp://127.0.0.1:1/live/standing' },
      { enable: false, channel: 1, quality: 'ld', url: '' },
    ];
    assert.deepEqual((await rpc('e2e-nvr', 'SetRTMPPublishConfig', config)).body.resp, {});
    assert.deepEqual((await rpc('e2e-nvr', 'GetRTMPPublishConfig')).body.resp, config);

    assert.deepEqual(
      (await rpc('e2e-nvr', 'SetWifiConfig', { channel: 0, ssid: 'farm-net', password: 'w1f1-pw' })).body
        .resp,
      {},
    );
    const wifi = (await rpc('e2e-nvr', 'GetWifiStatusAndConfig', { channel: 0 })).body.resp as {
      ssid?: string;
      status: string;
    };
    assert.equal(wifi.ssid, 'farm-net');
    const ssids = (await rpc('e2e-nvr', 'GetWifiSSIDList', { channel: 0 })).body.resp as Array<{
      ssid: string;
    }>;
    assert.ok(ssids.length > 0);
  });

  test('alarm detection configs are range-checked and stored; disabled detection raises no alarm', async () => {
    const move = { channel: 2, enable: false, start: 0, end: 86400, sensitivity: 50, delay: 1 };
    assert.deepEqual((await rpc('e2e-nvr', 'AlarmMoveDetectConfig', move)).body.resp, {});
    assert.equal(nvr.raiseAlarm(2, 3, 200), false, 'motion detection disabled on channel 2');
    const bad = await rpc('e2e-nvr', 'AlarmMoveDetectConfig', { ...move, sensitivity: 101 });
    assert.equal(bad.status, 400, 'the admin API checks params against the schema first');
    const raw = await rpc('e2e-nvr', 'AlarmMoveDetectConfig', { ...move, sensitivity: 101 }, '?raw=1');
    assert.equal(raw.body.err?.code, 1, 'the device itself refuses out-of-range params');
    const rect = { ulx: 0, uly: 0, urx: 50, ury: 0, dlx: 0, dly: 50, drx: 50, dry: 50 };
    const intrusion = { channel: 2, enable: true, sensitivity: 70, delay: 0, rect };
    assert.deepEqual((await rpc('e2e-nvr', 'AlarmRectIntrusionDetectConfig', intrusion)).body.resp, {});
    assert.deepEqual(nvr.channelOf(2)!.rectDetect.rect, rect);
    assert.equal(nvr.raiseAlarm(2, 4, 3000), true, 'tripwire armed');
    const ch = await eventually('alarm bit in a keepalive', async () =>
      (await apiDevice('e2e-nvr')).channels.find((c) => c.channel === 2 && (c.alarm ?? 0) & 0x10),
    );
    assert.equal(ch.alarm, 0x10, 'bit 4 = tripwire (document layout)');
  });

  test('unknown method → 101, no such channel → 102, channel rebooting → 103, RebootChannel', async () => {
    assert.equal((await rpc('e2e-nvr', 'FormatDisk', {}, '?raw=1')).body.err?.code, 101);
    assert.equal((await rpc('e2e-nvr', 'GetNetConfig', { channel: 9 })).body.err?.code, 102);
    assert.deepEqual((await rpc('e2e-nvr', 'RebootChannel', { channel: 3 })).body.resp, {});
    await eventually('channel 3 offline in a keepalive', async () =>
      (await apiDevice('e2e-nvr')).channels.find((c) => c.channel === 3 && c.state === 0),
    );
    assert.equal((await rpc('e2e-nvr', 'GetNetConfig', { channel: 3 })).body.err?.code, 103);
    await eventually('channel 3 back', async () =>
      (await apiDevice('e2e-nvr')).channels.find((c) => c.channel === 3 && c.state === 1),
    );
    // A camera reboots as a whole: it disconnects and logs in again after the reboot time.
    assert.deepEqual((await rpc('e2e-cam', 'RebootChannel', { channel: 0 })).body.resp, {});
    await eventually('camera offline', async () => !(await apiDevice('e2e-cam')).online || undefined);
    await eventually('camera back online', async () => (await apiDevice('e2e-cam')).online || undefined);
  });

  test('offline device → 404', async () => {
    assert.equal((await rpc('nobody', 'GetNetConfig', { channel: 0 })).status, 404);
  });
});

describe('IVT events through POST /api/devices/{code}/event', () => {
  test('SyncTime sets the device clock when it is off by more than offset', async () => {
    assert.equal(await event('e2e-nvr', 'SyncTime', { datetime: '2016-12-05T02:15:32', offset: 5 }), 202);
    await eventually('clock set', () =>
      Math.abs(nvr.now() - Date.UTC(2016, 11, 5, 2, 15, 32)) < 5000 ? true : undefined,
    );
  });

  test('CtrlPTZ / GotoPTZPreset / CtrlPTZPresetTour / CtrlPTZPatrol move the simulated PTZ', async () => {
    await event('e2e-nvr', 'CtrlPTZ', { channel: 0, op: 'left', value: 50 });
    await eventually('moving left', () => (nvr.ptzStatus(0)?.moving === 'left' ? true : undefined));
    await event('e2e-nvr', 'CtrlPTZ', { channel: 0, op: 'stop' });
    await eventually('stopped', () => (nvr.ptzStatus(0)?.moving === null ? true : undefined));
    const token = (
      (await rpc('e2e-nvr', 'GetPTZPresetList', { channel: 0 })).body.resp as Array<{ token: string }>
    )[0]!.token;
    await event('e2e-nvr', 'GotoPTZPreset', { channel: 0, token });
    await eventually('at the preset', () => (nvr.ptzStatus(0)?.preset === token ? true : undefined));
    const tour = (
      (await rpc('e2e-nvr', 'GetPTZPresetTourList', { channel: 0 })).body.resp as Array<{ token: string }>
    )[0]!.token;
    await event('e2e-nvr', 'CtrlPTZPresetTour', { channel: 0, token: tour, op: 'start' });
    await eventually('touring', () => (nvr.ptzStatus(0)?.tour === tour ? true : undefined));
    await event('e2e-nvr', 'CtrlPTZPatrol', { channel: 0, op: 'start' });
    await eventually('patrolling', () => (nvr.ptzStatus(0)?.patrol ? true : undefined));
  });

  test('UpgradeFirmware: GetFirmware → download → state 2 → reconnect with the new firmware_model', async () => {
    assert.equal(await event('e2e-cam', 'UpgradeFirmware'), 202);
    await eventually(
      'upgraded and back online',
      async () => {
        const d = await apiDevice('e2e-cam');
        return d.online && d.firmware_model === 'ivc-fw-9.9.9' ? true : undefined;
      },
      10_000,
    );
    assert.equal(camera.firmwareModel, 'ivc-fw-9.9.9');
    const stats = (await (await fetch(`${ivc.httpUrl}/api/stats`)).json()) as { firmware_downloads: number };
    assert.ok(stats.firmware_downloads >= 1);
  });
});
