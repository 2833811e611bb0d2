import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { seededRandom } from '../src/core/random.js';
import { Scheduler } from '../src/core/scheduler.js';
import type { DeviceConfig } from '../src/device/config.js';
import { SimulatedDevice } from '../src/device/device.js';
import type {
  AlarmPictureJob,
  MediaEvents,
  MediaSink,
  MediaTask,
  PublishJob,
  RecordJob,
} from '../src/device/media-sink.js';
import type { DeviceTimings } from '../src/device/profile.js';
import { presetPosition } from '../src/device/ptz.js';
import type { AnswerPacket } from '../src/protocol/envelope.js';
import { eventually } from '../support/eventually.js';
import { defaultAnswer, RecordingObserver, type Session, TestPlatform } from './device-platform.js';

const fast: Partial<DeviceTimings> = {
  keepaliveMs: 60,
  rebootMs: 250,
  upgradeMs: 200,
  backoffInitialMs: 50,
  backoffCapMs: 100,
};

/** A media layer stand-in that records what the device asked of it and can fail a task later. */
class RecordingSink implements MediaSink {
  publishes: Array<{ job: PublishJob; events: MediaEvents; task: MediaTask; stopped: boolean }> = [];
  records: Array<{ job: RecordJob; stopped: boolean }> = [];
  pictures: AlarmPictureJob[] = [];
  startPublish(job: PublishJob, events: MediaEvents): MediaTask {
    const entry = {
      job,
      events,
      task: {
        stop: () => {
          entry.stopped = true;
        },
      },
      stopped: false,
    };
    this.publishes.push(entry);
    return entry.task;
  }
  startRecord(job: RecordJob): MediaTask {
    const entry = { job, stopped: false };
    this.records.push(entry);
    return {
      stop: () => {
        entry.stopped = true;
      },
    };
  }
  uploadAlarmPicture(job: AlarmPictureJob): void {
    this.pictures.push(job);
  }
}

const scheduler = new Scheduler({ resolutionMs: 10 });
let platform: TestPlatform;
const devices: SimulatedDevice[] = [];
let serial = 0;

interface Rig {
  d: SimulatedDevice;
  s: Session;
  observer: RecordingObserver;
  sink: RecordingSink;
  /** Calls a device method; returns `resp` or `{ err: code }`. */
  call(method: string, params?: unknown): Promise<unknown>;
  /** The channels of the device's next keepalive. */
  nextKeepalive(): Promise<Array<Record<string, unknown>>>;
}

async function rig(
  overrides: Partial<DeviceConfig> = {},
  clock?: () => number,
  random: () => number = seededRandom(serial + 1),
): Promise<Rig> {
  const observer = new RecordingObserver();
  const sink = new RecordingSink();
  const d = new SimulatedDevice(
    { url: platform.url, loginCode: `dev-${++serial}`, password: 'pw', timings: fast, ...overrides },
    { scheduler, observer, media: sink, random, ...(clock ? { clock } : {}) },
  );
  devices.push(d);
  const next = platform.nextSession(d.loginCode);
  d.start();
  const s = await next;
  await eventually('d.isOnline', () => d.isOnline);
  return {
    d,
    s,
    observer,
    sink,
    call: (method, params) => callOn(s, method, params),
    async nextKeepalive() {
      const n = s.requests.filter((r) => r.method === 'Keepalive').length;
      const ka = await s.waitFor('Keepalive', n + 1);
      return (ka.params as { channels: Array<Record<string, unknown>> }).channels;
    },
  };
}

async function callOn(s: Session, method: string, params?: unknown): Promise<unknown> {
  const answer: AnswerPacket = await s.call(method, params);
  return 'err' in answer && answer.err ? { err: answer.err.code, msg: answer.err.msg } : answer.resp;
}

const publish = (channel: number, stream_id: string, quality = 'sd', max_bitrate = 0) => ({
  channel,
  quality,
  url: `rtmp://127.0.0.1/live/${stream_id}`,
  stream_id,
  max_bitrate,
});

const record = (channel: number, session_id: string, extra: Record<string, unknown> = {}) => ({
  session_id,
  channel,
  quality: 'ld',
  max_bitrate: 0,
  seg_duration: 10,
  seg_max_size: 4_000_000,
  seg_max_count: 3,
  prerecord_seconds: 5,
  start_ts: 0,
  cbk_url: 'ivr://127.0.0.1/cbk',
  ...extra,
});

before(async () => {
  platform = await new TestPlatform().listen();
});
after(async () => {
  await Promise.all(devices.map((d) => d.stop()));
  await platform.close();
});

describe('RTMPPublish / RTMPStopPublish', () => {
  test('publish shows state 2 + stream_id in keepalives; repeat is {}; another stream is 12; stop clears', async () => {
    const r = await rig();
    assert.deepEqual(await r.call('RTMPPublish', publish(0, 'live-1')), {});
    assert.deepEqual(r.sink.publishes[0]!.job, {
      loginCode: r.d.loginCode,
      channel: 0,
      quality: 'sd',
      url: 'rtmp://127.0.0.1/live/live-1',
      streamId: 'live-1',
      bitrate: 512_000,
    });
    assert.deepEqual(await r.nextKeepalive(), [{ channel: 0, state: 2, stream_id: 'live-1' }]);
    assert.deepEqual(await r.call('RTMPPublish', publish(0, 'live-1')), {});
    assert.equal(r.sink.publishes.length, 1, 'same stream: no second push');
    assert.deepEqual(await r.call('RTMPPublish', publish(0, 'live-2')), {
      err: 12,
      msg: 'duplicate publish request',
    });
    assert.deepEqual(await r.call('RTMPStopPublish', { stream_id: 'other', channel: 0 }), {});
    assert.equal(r.d.channels[0]!.state, 2, 'stopping another stream changes nothing');
    assert.deepEqual(await r.call('RTMPStopPublish', { stream_id: 'live-1', channel: 0 }), {});
    assert.equal(r.sink.publishes[0]!.stopped, true);
    assert.deepEqual(await r.nextKeepalive(), [{ channel: 0, state: 1 }]);
  });

  test('error 11 when the quality bitrate exceeds max_bitrate > 0 (bit/s), per-device bitrates', async () => {
    const r = await rig({ bitrates: { hd: 1_500_000 } });
    assert.equal(((await r.call('RTMPPublish', publish(0, 'a', 'sd', 500_000))) as { err: number }).err, 11);
    assert.deepEqual(await r.call('RTMPPublish', publish(0, 'a', 'hd', 1_500_000)), {});
    assert.equal(r.sink.publishes[0]!.job.bitrate, 1_500_000);
    await r.call('RTMPStopPublish', { stream_id: 'a', channel: 0 });
    assert.deepEqual(await r.call('RTMPPublish', publish(0, 'b', 'fhd', 0)), {}, '0 = no limit');
  });

  test('a push that fails later puts the channel back to state 1 and is reported', async () => {
    const r = await rig();
    await r.call('RTMPPublish', publish(0, 'doomed'));
    const p = r.sink.publishes[0]!;
    p.events.mediaFailed(p.task, 'rtmp connect refused');
    assert.deepEqual(r.observer.media, [[0, 'publish', 'rtmp connect refused']]);
    await r.nextKeepalive(); // may have been in flight before the failure
    assert.deepEqual(await r.nextKeepalive(), [{ channel: 0, state: 1 }]);
    assert.deepEqual(await r.call('RTMPPublish', publish(0, 'again')), {}, 'can publish again');
  });

  test('vendor: max_bitrate compared in kbit/s, every handler failure is {code 1, "error"}', async () => {
    const r = await rig({ profile: 'vendor' });
    // 524287 bit/s >> 10 = 511 kbit/s < 500 000 >> 10? no: sd 512 000 >> 10 = 500 ≤ 511 → accepted.
    // The vendor answers an empty answer as "resp": "".
    assert.deepEqual(await r.call('RTMPPublish', publish(0, 'v', 'sd', 524_287)), '');
    assert.deepEqual(await r.call('RTMPPublish', publish(0, 'w', 'sd', 0)), { err: 1, msg: 'error' });
    assert.deepEqual(await r.call('RebootChannel', { channel: 4 }), { err: 1, msg: 'error' });
    assert.deepEqual(await r.call('NoSuchMethod'), { err: 101, msg: 'error' });
    await r.call('RTMPStopPublish', { stream_id: 'v', channel: 0 });
    // A limit under 1 kbit/s becomes 0 = "no limit" in the vendor's arithmetic.
    assert.deepEqual(await r.call('RTMPPublish', publish(0, 'x', 'fhd', 1000)), '');
  });
});

describe('cloud recording', () => {
  test('StartCloudRecord puts record_session in keepalives; start_ts from the device clock; stop clears', async () => {
    const now = Date.UTC(2026, 5, 1, 12, 0, 0);
    const r = await rig({}, () => now);
    assert.deepEqual(await r.call('StartCloudRecord', record(0, 'S'.repeat(22))), {});
    assert.equal(r.sink.records[0]!.job.startTs, now / 1000);
    assert.equal(r.sink.records[0]!.job.params.cbk_url, 'ivr://127.0.0.1/cbk');
    assert.deepEqual(await r.nextKeepalive(), [{ channel: 0, state: 1, record_session: 'S'.repeat(22) }]);
    assert.deepEqual(await r.call('StartCloudRecord', record(0, 'S'.repeat(22))), {}, 'same session again');
    assert.equal(((await r.call('StartCloudRecord', record(0, 'T'.repeat(22)))) as { err: number }).err, 12);
    await r.call('StartCloudRecord', record(0, 'x', { start_ts: 1_700_000_000 })).catch(() => {});
    assert.deepEqual(await r.call('StopCloudRecord', { session_id: 'S'.repeat(22), channel: 0 }), {});
    assert.equal(r.sink.records[0]!.stopped, true);
    assert.deepEqual(await r.nextKeepalive(), [{ channel: 0, state: 1 }]);
    assert.deepEqual(
      await r.call(
        'StartCloudRecord',
        record(0, 'U', { start_ts: 1_700_000_000, quality: 'hd', max_bitrate: 1_000_000 }),
      ),
      {
        err: 11,
        msg: 'stream bitrate 2000000 exceeds max_bitrate 1000000',
      },
    );
    assert.deepEqual(await r.call('StartCloudRecord', record(0, 'U', { start_ts: 1_700_000_000 })), {});
    assert.equal(r.sink.records.at(-1)!.job.startTs, 1_700_000_000);
    assert.equal(
      ((await r.call('StartCloudRecord', record(0, 'V', { cbk_url: 'x'.repeat(257) }))) as { err: number })
        .err,
      1,
    );
  });
});

describe('common errors', () => {
  test('101 unknown method, 102 no such channel, 1 invalid params with the reason', async () => {
    const r = await rig();
    assert.deepEqual(await r.call('FlyToMoon', { channel: 0 }), {
      err: 101,
      msg: 'method FlyToMoon not supported',
    });
    assert.deepEqual(await r.call('GetNetConfig', { channel: 1 }), {
      err: 102,
      msg: 'channel 1 does not exist',
    });
    const bad = (await r.call('RTMPPublish', {
      channel: 0,
      quality: 'uhd',
      url: 'x',
      stream_id: 's',
      max_bitrate: 0,
    })) as {
      err: number;
      msg: string;
    };
    assert.equal(bad.err, 1);
    assert.match(bad.msg, /^invalid params: quality/);
    const missing = (await r.call('RTMPStopPublish', { channel: 0 })) as { err: number; msg: string };
    assert.match(missing.msg, /stream_id/);
    assert.deepEqual(
      r.observer.rpcs.filter((x) => x.direction === 'from_ivc').map((x) => x.errCode),
      [101, 102, 1, 1],
    );
  });
});

describe('RebootChannel', () => {
  test('NVR: that channel is offline (state 0, 103, push stopped) for rebootMs, the others untouched', async () => {
    const r = await rig({ kind: 'nvr', channels: 3 });
    await r.call('RTMPPublish', publish(1, 'one'));
    await r.call('RTMPPublish', publish(2, 'two'));
    const t0 = performance.now();
    assert.deepEqual(await r.call('RebootChannel', { channel: 1 }), {});
    assert.equal(r.sink.publishes[0]!.stopped, true);
    assert.deepEqual(await r.nextKeepalive(), [
      { channel: 0, state: 1 },
      { channel: 1, state: 0 },
      { channel: 2, state: 2, stream_id: 'two' },
    ]);
    assert.deepEqual(await r.call('RTMPPublish', publish(1, 'x')), { err: 103, msg: 'channel 1 is offline' });
    assert.deepEqual(await r.call('RTMPStopPublish', { stream_id: 'one', channel: 1 }), {});
    await eventually('r.d.channels[1]!.state === 1', () => r.d.channels[1]!.state === 1, 2000);
    assert.ok(performance.now() - t0 >= 240);
    assert.equal(r.d.isOnline, true, 'an NVR stays connected');
    assert.deepEqual(await r.call('RTMPPublish', publish(1, 'x')), {});
  });

  test('camera: answers {}, then the whole device disconnects (reboot) and logs in again after rebootMs', async () => {
    const r = await rig();
    await r.call('RTMPPublish', publish(0, 'cam'));
    const again = platform.nextSession(r.d.loginCode);
    const t0 = performance.now();
    assert.deepEqual(await r.call('RebootChannel', { channel: 0 }), {});
    await r.s.closed;
    assert.equal(r.d.state, 'rebooting');
    assert.equal(r.sink.publishes[0]!.stopped, true);
    const s2 = await again;
    assert.ok(performance.now() - t0 >= 240, `back after ${performance.now() - t0} ms`);
    assert.equal(r.observer.disconnects[0]!.reason, 'reboot');
    const ka = await s2.waitFor('Keepalive');
    assert.deepEqual(ka.params, { state: 1, channels: [{ channel: 0, state: 1 }] });
  });
});

describe('PTZ, detection configs, net, RTMP config, Wi-Fi', () => {
  test('preset and tour lists', async () => {
    const r = await rig({ ptzPresets: 2 });
    assert.deepEqual(await r.call('GetPTZPresetList', { channel: 0 }), [
      { name: 'Preset 1', token: 'preset-1' },
      { name: 'Preset 2', token: 'preset-2' },
    ]);
    assert.deepEqual(await r.call('GetPTZPresetTourList', { channel: 0 }), [
      { name: 'Tour 1', token: 'tour-1' },
      { name: 'Tour 2', token: 'tour-2' },
    ]);
  });

  test('detection configs: range checked, stored, rect kept when absent', async () => {
    const r = await rig();
    const base = { channel: 0, enable: true, sensitivity: 80, delay: 3 };
    assert.equal(
      ((await r.call('AlarmMoveDetectConfig', { ...base, sensitivity: 101 })) as { err: number }).err,
      1,
    );
    assert.equal(
      ((await r.call('AlarmMoveDetectConfig', { ...base, start: 90_000 })) as { err: number }).err,
      1,
    );
    assert.deepEqual(await r.call('AlarmMoveDetectConfig', { ...base, start: 3600, end: 7200 }), {});
    assert.deepEqual(
      { ...r.d.channels[0]!.moveDetect },
      { enable: true, start: 3600, end: 7200, sensitivity: 80, delay: 3, rect: undefined },
    );
    const rect = { ulx: 10, uly: 10, urx: 90, ury: 10, dlx: 10, dly: 90, drx: 90, dry: 90 };
    assert.equal(
      (
        (await r.call('AlarmRectIntrusionDetectConfig', { ...base, rect: { ...rect, dry: 101 } })) as {
          err: number;
        }
      ).err,
      1,
    );
    assert.deepEqual(await r.call('AlarmRectIntrusionDetectConfig', { ...base, rect }), {});
    assert.deepEqual(await r.call('AlarmRectIntrusionDetectConfig', { ...base, sensitivity: 20 }), {});
    assert.deepEqual(r.d.channels[0]!.rectDetect.rect, rect);
    assert.equal(r.d.channels[0]!.rectDetect.sensitivity, 20);
  });

  test('GetNetConfig, Get/SetRTMPPublishConfig kept across reconnects', async () => {
    const r = await rig({ kind: 'nvr', channels: 2, index: 258 });
    const net = (await r.call('GetNetConfig', { channel: 1 })) as Array<Record<string, unknown>>;
    assert.equal(net.length, 1);
    assert.deepEqual(Object.keys(net[0]!).sort(), [
      'dhcp',
      'dns1',
      'dns2',
      'gateway',
      'ip',
      'mac',
      'name',
      'netmask',
    ]);
    assert.equal(net[0]!.ip, '10.0.1.2');
    assert.deepEqual(await r.call('GetRTMPPublishConfig'), [
      { enable: false, channel: 0, quality: 'sd', url: '' },
      { enable: false, channel: 1, quality: 'sd', url: '' },
    ]);
    const config = [{ enable: true, channel: 1, quality: 'hd', url: 'rtmp://127.0.0.1/live/standing' }];
    assert.deepEqual(await r.call('SetRTMPPublishConfig', config), {});
    assert.equal(
      ((await r.call('SetRTMPPublishConfig', [{ ...config[0], channel: 7 }])) as { err: number }).err,
      102,
    );
    assert.equal(((await r.call('SetRTMPPublishConfig', { not: 'an array' })) as { err: number }).err, 1);
    const again = platform.nextSession(r.d.loginCode);
    r.d.disconnect(0);
    const s2 = await again;
    assert.deepEqual(await callOn(s2, 'GetRTMPPublishConfig'), config);
  });

  test('Wi-Fi: SetWifiConfig changes the status; the password never reaches the observer', async () => {
    const r = await rig();
    assert.deepEqual(await r.call('GetWifiStatusAndConfig', { channel: 0 }), {
      enable: false,
      status: 'disabled',
    });
    assert.equal(((await r.call('GetWifiSSIDList', { channel: 0 })) as unknown[]).length, 3);
    assert.deepEqual(
      await r.call('SetWifiConfig', { channel: 0, ssid: 'lab-2g', password: 'wifi-secret-9' }),
      {},
    );
    const status = (await r.call('GetWifiStatusAndConfig', { channel: 0 })) as Record<string, unknown>;
    assert.equal(status.enable, true);
    assert.equal(status.ssid, 'lab-2g');
    assert.equal(status.password, 'wifi-secret-9');
    assert.equal(status.status, 'connected');
    assert.equal(typeof status.signal, 'number');
    await r.call('SetWifiConfig', { channel: 0, ssid: 'lab-5g' });
    assert.equal(
      ((await r.call('GetWifiStatusAndConfig', { channel: 0 })) as { password: string }).password,
      'wifi-secret-9',
    );
    assert.doesNotMatch(JSON.stringify(r.observer), /wifi-secret/);
  });
});

describe('alarms', () => {
  test('raiseAlarm: AlarmNotify start, keepalive bit 1<<type (spec), end after the duration, picture hook', async () => {
    const r = await rig();
    platform.answer = (method, params, session) =>
      method === 'AlarmNotify' && session === r.s
        ? { pic_upload_url: 'http://127.0.0.1:9/pic' }
        : defaultAnswer(method, params, session);
    assert.equal(r.d.raiseAlarm(0, 3, 500), true);
    const start = await r.s.waitFor('AlarmNotify');
    assert.deepEqual(start.params, { channel: 0, type: 3, state: 'start', desc: 'motion' });
    assert.deepEqual(await r.nextKeepalive(), [{ channel: 0, state: 1, alarm: 0x8 }]);
    assert.equal(r.d.raiseAlarm(0, 4, 500), true);
    // Keepalives sent before the AlarmNotify may still be in flight: wait for it first.
    await r.s.waitFor('AlarmNotify', 2);
    assert.deepEqual(await r.nextKeepalive(), [{ channel: 0, state: 1, alarm: 0x18 }]);
    const end = await r.s.waitFor('AlarmNotify', 3);
    assert.deepEqual(end.params, { channel: 0, type: 3, state: 'end', desc: 'motion' });
    await r.s.waitFor('AlarmNotify', 4);
    assert.deepEqual(await r.nextKeepalive(), [{ channel: 0, state: 1 }]);
    assert.deepEqual(r.observer.alarms, [
      [0, 3],
      [0, 4],
    ]);
    await eventually('r.sink.pictures.length === 2', () => r.sink.pictures.length === 2);
    assert.deepEqual(r.sink.pictures[0], {
      loginCode: r.d.loginCode,
      channel: 0,
      type: 3,
      url: 'http://127.0.0.1:9/pic',
    });
    platform.answer = defaultAnswer;
  });

  test('vendor bit layout is 1<<(type-1); enable:false and the arm window (across midnight) suppress alarms', async () => {
    let now = Date.UTC(2026, 0, 1, 23, 30, 0);
    // (An alarm taking the keepalive's turn would let this short alarm end before the next one.)
    const r = await rig({ profile: 'vendor', traits: { alarmDelaysKeepalive: false } }, () => now);
    assert.equal(r.d.raiseAlarm(0, 2, 500), true);
    await r.s.waitFor('AlarmNotify');
    assert.deepEqual(await r.nextKeepalive(), [{ channel: 0, state: 1, alarm: 0x2 }]);
    await r.call('AlarmMoveDetectConfig', {
      channel: 0,
      enable: true,
      start: 23 * 3600,
      end: 3600,
      sensitivity: 50,
      delay: 0,
    });
    assert.equal(r.d.raiseAlarm(0, 3, 100), true, '23:30 is inside 23:00–01:00');
    now = Date.UTC(2026, 0, 2, 0, 30, 0);
    assert.equal(r.d.raiseAlarm(0, 3, 100), true, '00:30 too (already active: extended)');
    now = Date.UTC(2026, 0, 2, 12, 0, 0);
    await eventually('!r.d.channels[0]!.isAlarmActive(3)', () => !r.d.channels[0]!.isAlarmActive(3), 2000);
    assert.equal(r.d.raiseAlarm(0, 3, 100), false, 'noon is outside the window');
    await r.call('AlarmRectIntrusionDetectConfig', { channel: 0, enable: false, sensitivity: 50, delay: 0 });
    assert.equal(r.d.raiseAlarm(0, 4, 100), false, 'tripwire disabled');
    assert.equal(r.d.raiseAlarm(5, 2, 100), false, 'no such channel');
    assert.deepEqual(r.observer.alarms, [
      [0, 2],
      [0, 3],
    ]);
  });
});

describe('events', () => {
  test('SyncTime adjusts the device clock only when off by more than offset', async () => {
    const wall = Date.UTC(2026, 0, 1, 0, 0, 0);
    const r = await rig({}, () => wall);
    r.s.event('SyncTime', { datetime: '2026-01-01T00:00:04', offset: 5 });
    r.s.event('SyncTime', { datetime: '2016-12-05T02:15:32', offset: 5 });
    r.s.event('SyncTime', { datetime: 'yesterday', offset: 5 });
    await eventually('r.observer.events.length === 3', () => r.observer.events.length === 3);
    assert.equal(r.d.now(), Date.UTC(2016, 11, 5, 2, 15, 32));
    assert.equal(r.observer.rejected.length, 1);
  });

  test('PTZ events move the head, go to presets, run tours and patrol; unknown events are counted', async () => {
    const r = await rig({ kind: 'nvr', channels: 2 });
    r.s.event('CtrlPTZ', { channel: 1, op: 'left', value: 100 });
    await eventually("r.d.ptzStatus(1)!.moving === 'left'", () => r.d.ptzStatus(1)!.moving === 'left');
    await new Promise((res) => setTimeout(res, 100));
    r.s.event('CtrlPTZ', { channel: 1, op: 'stop' });
    await eventually('r.d.ptzStatus(1)!.moving === null', () => r.d.ptzStatus(1)!.moving === null);
    assert.ok(r.d.ptzStatus(1)!.pan < -2, `pan ${r.d.ptzStatus(1)!.pan}`);
    assert.equal(r.d.ptzStatus(0)!.pan, 0, 'other channel untouched');
    r.s.event('GotoPTZPreset', { channel: 1, token: 'preset-3' });
    await eventually(
      "r.d.ptzStatus(1)!.preset === 'preset-3'",
      () => r.d.ptzStatus(1)!.preset === 'preset-3',
    );
    assert.equal(r.d.ptzStatus(1)!.pan, presetPosition(3)[0]);
    r.s.event('CtrlPTZPresetTour', { channel: 1, token: 'tour-2', op: 'start' });
    await eventually("r.d.ptzStatus(1)!.tour === 'tour-2'", () => r.d.ptzStatus(1)!.tour === 'tour-2');
    r.s.event('CtrlPTZPresetTour', { channel: 1, op: 'stop' });
    r.s.event('CtrlPTZPatrol', { channel: 1, op: 'start' });
    await eventually('r.d.ptzStatus(1)!.patrol', () => r.d.ptzStatus(1)!.patrol);
    assert.equal(r.d.ptzStatus(1)!.tour, null);
    r.s.event('CtrlPTZ', { channel: 1, op: 'spin' });
    r.s.event('GotoPTZPreset', { channel: 9, token: 'preset-1' });
    r.s.event('Teleport', { channel: 0 });
    await eventually('r.observer.events.length === 9', () => r.observer.events.length === 9);
    assert.deepEqual(r.observer.events.at(-1), ['Teleport', false]);
    assert.equal(r.observer.events.filter(([, known]) => !known).length, 1);
    assert.equal(r.observer.rejected.length, 2);
    assert.equal(r.d.isOnline, true, 'events never close the connection');
  });
});

describe('UpgradeFirmware', () => {
  let http: Server;
  let fwUrl = '';
  before(async () => {
    const image = Buffer.alloc(100_000, 7);
    http = createServer((req, res) => {
      if (req.url === '/fw.bin') res.writeHead(200, { 'content-length': image.length }).end(image);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    fwUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => http.close(() => resolve())));

  test('GetFirmware → download → keepalive state 2 for upgradeMs → reconnect with the new firmware_model', async () => {
    const r = await rig({ firmwareModel: 'fw-1' });
    platform.answer = (method, params, session) =>
      method === 'GetFirmware'
        ? { firmware_model: 'fw-2', url: `${fwUrl}/fw.bin` }
        : defaultAnswer(method, params, session);
    const again = platform.nextSession(r.d.loginCode);
    r.s.event('UpgradeFirmware');
    await r.s.waitFor('GetFirmware');
    await eventually("r.d.state === 'upgrading'", () => r.d.state === 'upgrading');
    const ka = (
      await r.s.waitFor('Keepalive', r.s.requests.filter((x) => x.method === 'Keepalive').length + 1)
    ).params;
    assert.equal((ka as { state: number }).state, 2);
    const s2 = await again;
    assert.equal(s2.query.get('firmware_model'), 'fw-2');
    assert.equal(r.d.firmwareModel, 'fw-2');
    assert.deepEqual(r.observer.firmware, [['upgraded', 100_000]]);
    assert.equal(r.observer.disconnects[0]!.reason, 'upgrade');
    assert.equal(((await s2.waitFor('Keepalive')).params as { state: number }).state, 1);
    platform.answer = defaultAnswer;
  });

  test('vendor: GetFirmware daily at 03:xx + 0–600 s of the device clock', async () => {
    const started = Date.now();
    // 02:59:59 now; with random() = 0 the check is due at 03:00:00, one second later.
    const clock = () => Date.UTC(2026, 0, 1, 2, 59, 59) + (Date.now() - started);
    const r = await rig({ profile: 'vendor' }, clock, () => 0);
    assert.equal(r.s.requests.filter((x) => x.method === 'GetFirmware').length, 0);
    const t0 = performance.now();
    await r.s.waitFor('GetFirmware', 1, 3000);
    assert.ok(performance.now() - t0 >= 500, 'not before 03:00');
    await eventually('r.observer.firmware.length === 1', () => r.observer.firmware.length === 1);
    assert.deepEqual(r.observer.firmware, [['skipped', 0]], 'same version offered');
  });

  test('same version, a non-http url or a failing download: no upgrade, no reconnect', async () => {
    const r = await rig({ firmwareModel: 'fw-3' });
    const offers = [
      { firmware_model: 'fw-3', url: `${fwUrl}/fw.bin` },
      { firmware_model: 'fw-4', url: 'ftp://127.0.0.1/fw.bin' },
      { firmware_model: 'fw-4', url: `${fwUrl}/missing.bin` },
    ];
    let i = 0;
    platform.answer = (method, params, session) =>
      method === 'GetFirmware' ? offers[i++] : defaultAnswer(method, params, session);
    for (let n = 1; n <= 3; n++) {
      r.s.event('UpgradeFirmware');
      await eventually('r.observer.firmware.length === n', () => r.observer.firmware.length === n);
    }
    assert.deepEqual(r.observer.firmware, [
      ['skipped', 0],
      ['skipped', 0],
      ['failed', 0],
    ]);
    assert.equal(r.d.state, 'online');
    assert.equal(r.d.firmwareModel, 'fw-3');
    assert.equal(r.observer.disconnects.length, 0);
    platform.answer = defaultAnswer;
  });
});
