import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { seededRandom } from '../src/core/random.js';
import { Scheduler } from '../src/core/scheduler.js';
import type { DeviceConfig } from '../src/device/config.js';
import { SimulatedDevice } from '../src/device/device.js';
import { type DeviceTimings, profiles } from '../src/device/profile.js';
import { DeadlineSweeper } from '../src/protocol/deadline-sweeper.js';
import { NO_ANSWER } from '../src/protocol/peer.js';
import { eventually } from '../support/eventually.js';
import { defaultAnswer, RecordingObserver, TestPlatform } from './device-platform.js';

// Short timings so the file runs in seconds; the real defaults are checked by value.
const fast: Partial<DeviceTimings> = {
  keepaliveMs: 5000,
  rpcTimeoutMs: 400,
  backoffInitialMs: 100,
  backoffCapMs: 400,
  retryMinMs: 100,
  retryMaxMs: 200,
  quickRetryMinMs: 50,
  quickRetryMaxMs: 100,
};

const scheduler = new Scheduler({ resolutionMs: 10 });
const sweeper = new DeadlineSweeper(50);
let platform: TestPlatform;
const devices: SimulatedDevice[] = [];

let serial = 0;

function device(overrides: Partial<DeviceConfig> = {}, observer = new RecordingObserver(), seed = 1) {
  const d = new SimulatedDevice(
    {
      url: platform.url,
      loginCode: `cam-${++serial}`,
      password: 'pw',
      timings: fast,
      ...overrides,
    },
    { scheduler, observer, sweeper, random: seededRandom(seed) },
  );
  devices.push(d);
  return { d, observer };
}

/** Starts `d` and resolves with its platform session once the device itself is online. */
async function login(d: SimulatedDevice) {
  const next = platform.nextSession(d.loginCode);
  d.start();
  const s = await next;
  await eventually('device online', () => d.isOnline, 5000);
  return s;
}

before(async () => {
  platform = await new TestPlatform().listen();
});
after(async () => {
  await Promise.all(devices.map((d) => d.stop()));
  await platform.close();
});

describe('login', () => {
  test('login URL carries the four fields URL-encoded, no permessage-deflate, first keepalive at once', async () => {
    const { d, observer } = device({
      loginCode: 'cam 1/é&x',
      password: 'p@ss=&?',
      hardwareModel: 'HW 2',
      firmwareModel: 'fw+1',
    });
    const s = await login(d);
    const raw = platform.upgrades.at(-1)!;
    assert.match(raw.url!, /^\/ivc\?login_code=cam%201%2F%C3%A9%26x&login_passwd=p%40ss%3D%26%3F&/);
    assert.equal(s.query.get('login_code'), 'cam 1/é&x');
    assert.equal(s.query.get('login_passwd'), 'p@ss=&?');
    assert.equal(s.query.get('hardware_model'), 'HW 2');
    assert.equal(s.query.get('firmware_model'), 'fw+1');
    assert.equal(raw.headers['sec-websocket-extensions'], undefined);
    const ka = await s.waitFor('Keepalive');
    assert.equal(ka.seq, 1);
    assert.equal(
      s.texts[0],
      '{"req":"Keepalive","params":{"state":1,"channels":[{"channel":0,"state":1}]},"seq":1}',
    );
    await eventually('observer.logins.length === 1', () => observer.logins.length === 1);
    assert.deepEqual(
      observer.states.map(([, to]) => to),
      ['connecting', 'online'],
    );
    assert.equal(d.state, 'online');
    await d.stop();
  });

  test('an NVR reports every channel; keepalives repeat every keepaliveMs', async () => {
    const { d } = device({ kind: 'nvr', channels: 3, timings: { ...fast, keepaliveMs: 100 } });
    const s = await login(d);
    const first = await s.waitFor('Keepalive', 1);
    const fourth = await s.waitFor('Keepalive', 4);
    assert.deepEqual(first.params, {
      state: 1,
      channels: [
        { channel: 0, state: 1 },
        { channel: 1, state: 1 },
        { channel: 2, state: 1 },
      ],
    });
    assert.deepEqual(
      s.requests.slice(0, 4).map((r) => r.seq),
      [1, 2, 3, 4],
    );
    // Three periods of 100 ms (the scheduler adds at most one 10 ms tick each).
    assert.ok(fourth.at - first.at >= 290, `${fourth.at - first.at} ms`);
    await d.stop();
  });

  test('a refused login (401, then 403) is reported and retried with back-off until accepted', async () => {
    const { d, observer } = device({ password: 'secret-pw' });
    platform.password = 'other';
    d.start();
    await eventually('3 refusals', () => observer.loginFailures.length >= 3, 5000);
    platform.password = null;
    platform.refuseWith = 403;
    await eventually('a 403', () => observer.loginFailures.length >= 4, 5000);
    const next = platform.nextSession(d.loginCode);
    platform.refuseWith = null;
    await next;
    await eventually("d.state === 'online'", () => d.state === 'online');
    assert.deepEqual(observer.loginFailures[0]!.failure, { kind: 'refused', status: 401 });
    assert.deepEqual(observer.loginFailures.at(-1)!.failure, { kind: 'refused', status: 403 });
    assert.ok(observer.states.some(([, to]) => to === 'backoff'));
    // Back-off waits stay under the growing bound (100, 200, 400, 400 … ms): from a refusal to the
    // next attempt, so a slow login round trip on a busy machine is not counted as waiting.
    for (let i = 1; i < observer.loginFailures.length; i++) {
      const wait = observer.attempts[i]! - observer.loginFailures[i - 1]!.at;
      assert.ok(wait <= Math.min(400, 100 * 2 ** (i - 1)) + 150, `wait ${i}: ${wait} ms`);
    }
    assert.doesNotMatch(JSON.stringify(observer), /secret-pw/);
    await d.stop();
  });

  test('a start-up delay (startup_jitter) is waiting, not back-off', async () => {
    const { d, observer } = device({ timings: { ...fast, startDelayMaxMs: 300 } });
    d.start();
    assert.equal(d.state, 'waiting');
    await eventually('online', () => d.state === 'online', 15_000);
    assert.deepEqual(observer.states.slice(0, 3), [
      ['idle', 'waiting'],
      ['waiting', 'connecting'],
      ['connecting', 'online'],
    ]);
    await d.stop();
  });

  test('nothing listening: failed with connection_refused', async () => {
    const { d, observer } = device({ url: 'ws://127.0.0.1:1/ivc' });
    d.start();
    await eventually('observer.loginFailures.length >= 2', () => observer.loginFailures.length >= 2);
    assert.deepEqual(observer.loginFailures[0]!.failure, { kind: 'failed', reason: 'connection_refused' });
    await d.stop();
    assert.equal(d.state, 'stopped');
  });

  test('an upgrade that never completes fails as timeout after handshakeTimeoutMs', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const { d, observer } = device({
      url: `ws://127.0.0.1:${port}/ivc`,
      timings: { ...fast, handshakeTimeoutMs: 200 },
    });
    const t0 = performance.now();
    d.start();
    await eventually('observer.loginFailures.length >= 1', () => observer.loginFailures.length >= 1);
    assert.ok(performance.now() - t0 >= 190);
    assert.deepEqual(observer.loginFailures[0]!.failure, { kind: 'failed', reason: 'timeout' });
    await d.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  test('localAddress spreads sockets over 127.0.0.x', async () => {
    const { d } = device({ localAddress: '127.0.0.3' });
    const s = await login(d);
    assert.equal(s.request.socket.remoteAddress, '127.0.0.3');
    await d.stop();
  });

  test('stop() closes with 1000 and never reconnects', async () => {
    const { d, observer } = device();
    const s = await login(d);
    await s.waitFor('Keepalive');
    await d.stop();
    const info = await s.closed;
    assert.equal(info.code, 1000);
    assert.deepEqual(
      observer.disconnects.map((x) => x.reason),
      ['local'],
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(platform.sessions.filter((x) => x.loginCode === d.loginCode).length, 1);
    assert.equal(d.state, 'stopped');
  });
});

describe('wss://', () => {
  let tlsPlatform: TestPlatform;
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ivt-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const tls = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
    tlsPlatform = await new TestPlatform(tls).listen();
  });
  after(async () => {
    await tlsPlatform.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('logs in with a custom CA file, or insecure; an unknown CA is a tls failure', async () => {
    const withCa = device({ url: tlsPlatform.url, tls: { caFile: join(dir, 'cert.pem') } }).d;
    const insecure = device({ url: tlsPlatform.url, tls: { insecure: true } }).d;
    const strict = device({ url: tlsPlatform.url });
    for (const d of [withCa, insecure, strict.d]) d.start();
    await eventually(
      'withCa.isOnline && insecure.isOnline && strict.observer.loginFailures.length > 0',
      () => withCa.isOnline && insecure.isOnline && strict.observer.loginFailures.length > 0,
    );
    assert.deepEqual(strict.observer.loginFailures[0]!.failure, { kind: 'failed', reason: 'tls' });
    assert.equal(tlsPlatform.sessions.length, 2);
    await Promise.all([withCa.stop(), insecure.stop(), strict.d.stop()]);
  });
});

describe('protocol faults close the connection and the device reconnects', () => {
  for (const [name, misbehave, reason, code] of [
    ['an answer with a wrong seq', 'seq', 'seq_mismatch', 4001],
    ['a malformed packet', 'malformed', 'malformed', 4003],
    ['no answer within the RPC timeout', 'silent', 'timeout', 4002],
  ] as const) {
    test(`${name} → ${reason}`, async () => {
      const { d, observer } = device({ loginCode: `fault-${reason}` });
      platform.answer = (method, params, session) => {
        if (
          session.loginCode !== `fault-${reason}` ||
          session !== platform.sessions.find((x) => x.loginCode === `fault-${reason}`)
        ) {
          return defaultAnswer(method, params, session);
        }
        if (misbehave === 'seq') session.socket.send('{"seq":77,"resp":{}}');
        if (misbehave === 'malformed') session.socket.send('{"seq":1,"resp":{},"event":"x"}');
        return NO_ANSWER;
      };
      const first = platform.nextSession(d.loginCode);
      d.start();
      const s = await first;
      const info = await s.closed;
      assert.equal(info.code, code);
      await eventually(
        'platform.sessions.filter((x) => x.loginCode === d.loginCode).length === 2',
        () => platform.sessions.filter((x) => x.loginCode === d.loginCode).length === 2,
      );
      await eventually("d.state === 'online'", () => d.state === 'online');
      assert.equal(observer.disconnects[0]!.reason, reason);
      assert.equal(observer.logins.length, 2);
      platform.answer = defaultAnswer;
      await d.stop();
    });
  }

  test('the platform dropping the socket is a network loss', async () => {
    const { d, observer } = device({ loginCode: 'drop-me' });
    const s = await login(d);
    const second = platform.nextSession(d.loginCode);
    s.socket.terminate();
    await second;
    assert.equal(observer.disconnects[0]!.reason, 'network');
    await d.stop();
  });
});

describe('injected device faults', () => {
  test('slow answers are delayed by slowAnswerMs, still in order', async () => {
    const { d, observer } = device({ faults: { slowAnswerMs: 150 } });
    const s = await login(d);
    const t0 = performance.now();
    const [a, b] = await Promise.all([s.call('GetPTZPresetList', { channel: 0 }), s.call('Nope')]);
    assert.ok(performance.now() - t0 >= 290, 'two answers, each 150 ms late');
    assert.ok('resp' in a && Array.isArray(a.resp));
    assert.equal('err' in b ? b.err?.code : null, 101);
    assert.deepEqual(observer.faults, ['slow_answer', 'slow_answer']);
    await d.stop();
  });

  test('dropped answers: the platform waits in vain', async () => {
    const { d, observer } = device({ faults: { dropAnswerProbability: 1 } });
    const s = await login(d);
    const answer = s.call('GetNetConfig', { channel: 0 });
    const winner = await Promise.race([
      answer.then(() => 'answered'),
      new Promise((r) => setTimeout(() => r('silent'), 300)),
    ]);
    assert.equal(winner, 'silent');
    assert.deepEqual(observer.faults, ['dropped_answer']);
    await d.stop();
  });

  test('malformed packets make the platform close (4003); the device logs in again', async () => {
    const { d, observer } = device({ loginCode: 'garbler', faults: { malformedProbability: 1 } });
    // Not login(): this device is online only until its first (garbled) packet, too briefly to poll.
    const first = platform.nextSession(d.loginCode);
    d.start();
    const s = await first;
    const second = platform.nextSession(d.loginCode);
    const info = await s.closed;
    assert.equal(info.reason, 'malformed');
    assert.equal(s.texts[0], '{"req":"Keepalive","seq":');
    await second;
    assert.equal(observer.disconnects[0]!.reason, 'closed_by_peer');
    assert.ok(observer.faults.includes('malformed_packet'));
    await d.stop();
  });
});

describe('reconnect rhythm', () => {
  test('a fleet of 50 that loses the platform at once reconnects spread out (full jitter)', async () => {
    const fleet = Array.from({ length: 50 }, (_, i) =>
      device(
        {
          loginCode: `fleet-${i}`,
          index: i,
          timings: { ...fast, backoffInitialMs: 1000, backoffCapMs: 1000 },
        },
        new RecordingObserver(),
        1000 + i,
      ),
    );
    for (const { d } of fleet) d.start();
    await eventually('fleet online', () => fleet.every(({ d }) => d.state === 'online'), 5000);
    const loginsBefore = fleet.map(({ observer }) => observer.logins.length);
    const dropAt = performance.now();
    for (const s of platform.sessions.filter((x) => x.loginCode.startsWith('fleet-'))) s.socket.terminate();
    await eventually(
      'fleet back',
      () => fleet.every(({ observer }, i) => observer.logins.length > loginsBefore[i]!),
      30_000,
    );
    // From the drop to the reconnect attempt: the back-off itself, not 50 logins' round trips.
    const delays = fleet.map(({ observer }) => observer.attempts.at(-1)! - dropAt);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    const sd = Math.sqrt(delays.reduce((a, b) => a + (b - mean) ** 2, 0) / delays.length);
    // Uniform on [0, 1000 ms] has sd ≈ 289 ms; lock-step would be ~0.
    assert.ok(
      Math.max(...delays) - Math.min(...delays) > 500,
      `range ${Math.max(...delays) - Math.min(...delays)}`,
    );
    assert.ok(sd > 150, `sd ${sd.toFixed(0)} ms`);
    assert.ok(Math.max(...delays) < 1500, `max ${Math.max(...delays)}`);
    const buckets = new Set(delays.map((x) => Math.floor(x / 100)));
    assert.ok(buckets.size >= 6, `only ${buckets.size} distinct 100 ms buckets`);
    await Promise.all(fleet.map(({ d }) => d.stop()));
  });

  test('storm: disconnect(delay) drops the socket and logs in again after that delay', async () => {
    const { d, observer } = device({ loginCode: 'stormy' });
    await login(d);
    const second = platform.nextSession(d.loginCode);
    const t0 = performance.now();
    assert.equal(d.disconnect(250), true);
    await second;
    assert.ok(performance.now() - t0 >= 240);
    assert.equal(observer.disconnects[0]!.reason, 'storm');
    await d.stop();
  });
});

describe('vendor profile', () => {
  test('preview_server first with seq 0, keepalive next; seq mismatch does not close', async () => {
    const { d } = device({ loginCode: 'vendor-1', profile: 'vendor' });
    const s = await login(d);
    await s.waitFor('Keepalive');
    assert.deepEqual(
      s.requests.slice(0, 2).map((r) => [r.method, r.seq]),
      [
        ['preview_server', 0],
        ['Keepalive', 1],
      ],
    );
    assert.equal(s.texts[0], '{"req":"preview_server","seq":0}');
    s.socket.send('{"seq":999,"resp":{}}');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(d.state, 'online');
    await d.stop();
  });

  test('vendor keepalive: every 10 s like spec, but twice at login (3–14 ms apart)', async () => {
    assert.equal(profiles.spec.timings.keepaliveMs, 10_000);
    // IVR-RPC.md "Observed on the wire": median 10.014 s, never 15 s while idle.
    assert.equal(profiles.vendor.timings.keepaliveMs, 10_000);
    const vendor = device({
      loginCode: 'pair-vendor',
      profile: 'vendor',
      timings: { ...fast, keepaliveMs: 300 },
    }).d;
    const s = await login(vendor);
    const third = await s.waitFor('Keepalive', 3);
    const [first, second] = s.requests.filter((r) => r.method === 'Keepalive');
    assert.ok(second!.at - first!.at < 100, `the login pair ${second!.at - first!.at} ms apart`);
    assert.ok(third.at - first!.at >= 250, 'then the regular period');
    await vendor.stop();
  });

  test('a vendor trait switched off: no login pair', async () => {
    const vendor = device({
      loginCode: 'nopair-vendor',
      profile: 'vendor',
      traits: { loginKeepalivePair: false },
      timings: { ...fast, keepaliveMs: 300 },
    }).d;
    const s = await login(vendor);
    const second = await s.waitFor('Keepalive', 2);
    const [first] = s.requests.filter((r) => r.method === 'Keepalive');
    assert.ok(second.at - first!.at >= 250, `second keepalive ${second.at - first!.at} ms after the first`);
    await vendor.stop();
  });

  test('preview_server repeats every previewServerMs', async () => {
    const { d } = device({ profile: 'vendor', timings: { ...fast, previewServerMs: 100 } });
    const s = await login(d);
    const third = await s.waitFor('preview_server', 3);
    assert.ok(third.at - s.requests[0]!.at >= 190);
    await d.stop();
  });

  test('after a loss: publishes stopped, two quick retries, then recordings stopped and the slow rhythm', async () => {
    const { d, observer } = device({
      loginCode: 'vendor-loss',
      profile: 'vendor',
      timings: { ...fast, quickRetryMinMs: 100, quickRetryMaxMs: 110, retryMinMs: 1000, retryMaxMs: 1010 },
    });
    const s = await login(d);
    const pub = await s.call('RTMPPublish', {
      channel: 0,
      quality: 'sd',
      url: 'rtmp://127.0.0.1/live/x',
      stream_id: 'x',
      max_bitrate: 0,
    });
    assert.deepEqual(pub, { seq: 1, resp: '' });
    const rec = await s.call('StartCloudRecord', {
      session_id: 'R'.repeat(22),
      channel: 0,
      quality: 'ld',
      max_bitrate: 0,
      seg_duration: 10,
      seg_max_size: 1_000_000,
      seg_max_count: 3,
      prerecord_seconds: 0,
      start_ts: 0,
      cbk_url: 'ivr://127.0.0.1/cbk',
    });
    assert.deepEqual(rec, { seq: 2, resp: '' });
    assert.equal(d.channels[0]!.state, 2);
    platform.refuseWith = 401;
    s.socket.terminate();
    await eventually('first failure', () => observer.loginFailures.length >= 1, 5000);
    assert.equal(d.channels[0]!.state, 1, 'vendor stops publishing on loss');
    assert.equal(d.channels[0]!.record_session, 'R'.repeat(22), 'recording survives the quick retries');
    await eventually('4 failures', () => observer.loginFailures.length >= 4, 15_000);
    assert.equal(d.channels[0]!.record_session, undefined, 'recording stopped after the quick retries');
    platform.refuseWith = null;
    const at = observer.loginFailures.map((f) => f.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // Timers never fire early, so the slow rhythm has a hard floor; the quick retry is only
    // compared with it (a busy machine adds the same login round trip to every gap).
    assert.ok(gaps[1]! >= 990 && gaps[2]! >= 990, `slow retries after ${gaps[1]}, ${gaps[2]} ms`);
    assert.ok(gaps[0]! < Math.min(gaps[1]!, gaps[2]!) - 500, `quick retry after ${gaps[0]} ms`);
    await d.stop();
  });
});
