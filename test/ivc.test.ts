import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { type IvcOptions, type RunningIvc, startIvc } from '../src/ivc/index.js';
import type { CloseInfo } from '../src/protocol/close-reason.js';
import { RpcError } from '../src/protocol/errors.js';
import { NO_ANSWER, type PeerHandler, RpcPeer } from '../src/protocol/peer.js';
import { eventually } from '../support/eventually.js';
import { openSocket as open } from '../support/ivc-client.js';

const PASSWORD = 'S3cret-pa55word-xyzzy';
const running: RunningIvc[] = [];
after(async () => {
  await Promise.all(running.map((ivc) => ivc.close()));
});

async function ivc(options: IvcOptions = {}): Promise<RunningIvc> {
  const started = await startIvc({ auth: { password: PASSWORD }, ...options });
  running.push(started);
  return started;
}

function loginUrl(
  base: string,
  loginCode: string,
  password = PASSWORD,
  extra: Record<string, string> = {},
): string {
  const q = new URLSearchParams({
    login_code: loginCode,
    login_passwd: password,
    hardware_model: 'HW-1',
    firmware_model: 'FW-1',
    ...extra,
  });
  return `${base}?${q}`;
}

/** A test device: answers platform calls from `answers`, records events, and sends what tests ask. */
class TestDevice implements PeerHandler {
  readonly events: Array<[string, unknown]> = [];
  readonly closed: Promise<CloseInfo>;
  private resolveClosed!: (info: CloseInfo) => void;
  peer!: RpcPeer;
  ws!: WebSocket;
  answers: Record<string, (params: unknown) => unknown> = {
    GetNetConfig: () => [
      {
        name: 'eth0',
        ip: '10.1.2.3',
        gateway: '10.1.2.1',
        netmask: '255.255.255.0',
        dns1: '1.1.1.1',
        dns2: '',
        mac: '00:11:22:33:44:55',
        dhcp: false,
      },
    ],
    RebootChannel: () => {
      throw new RpcError(102);
    },
    RTMPPublish: () => ({}),
  };

  constructor() {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  static async connect(ivcUrl: string, loginCode: string): Promise<TestDevice> {
    const device = new TestDevice();
    const ws = await open(loginUrl(ivcUrl, loginCode));
    assert.ok(ws instanceof WebSocket, `login of ${loginCode} refused: ${JSON.stringify(ws)}`);
    device.ws = ws;
    device.peer = new RpcPeer(ws, device);
    return device;
  }

  keepalive(channels: unknown[] = [{ channel: 0, state: 1 }]): Promise<unknown> {
    return this.peer.call('Keepalive', { state: 1, channels });
  }

  handleRequest(method: string, params: unknown): unknown {
    const answer = this.answers[method];
    if (!answer) throw new RpcError(101);
    return answer(params);
  }
  handleEvent(event: string, params: unknown): void {
    this.events.push([event, params]);
  }
  onPeerClose(info: CloseInfo): void {
    this.resolveClosed(info);
  }
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function post(url: string, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type DeviceJson = {
  online: boolean;
  channels: Array<{ channel: number; state: number; stream_id: string }>;
  violations: Record<string, number>;
  vendor_quirks: Record<string, number>;
  keepalives: number;
  keepalive_interval_mean_ms: number | null;
  hardware_model: string;
};

async function device(ivcRun: RunningIvc, code: string): Promise<DeviceJson> {
  const { status, body } = await getJson(`${ivcRun.httpUrl}/api/devices/${encodeURIComponent(code)}`);
  assert.equal(status, 200);
  return body as unknown as DeviceJson;
}

describe('IVC login', () => {
  test('refuses bad logins with the right HTTP status and never opens the socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivc-reg-'));
    try {
      const registryFile = join(dir, 'devices.yaml');
      writeFileSync(
        registryFile,
        `- { login_code: cam-1, password: ${PASSWORD} }\n- { login_code: cam-2, password: other, disabled: true }\n`,
      );
      const platform = await ivc({ auth: { registryFile, loginCodePattern: 'cam-\\d+' } });
      const missing = await open(`${platform.url}?login_code=cam-1&hardware_model=h&firmware_model=f`);
      assert.deepEqual(missing, { status: 400, body: '{"error":"missing query field: login_passwd"}' });
      assert.equal((await open(loginUrl(platform.url, 'cam-1', 'wrong'))) instanceof WebSocket, false);
      assert.equal(
        ((await open(loginUrl(platform.url, 'cam-1', 'wrong'))) as { status: number }).status,
        401,
      );
      assert.equal(((await open(loginUrl(platform.url, 'cam-9'))) as { status: number }).status, 401);
      assert.equal(((await open(loginUrl(platform.url, 'dog-1'))) as { status: number }).status, 401);
      assert.equal(
        ((await open(loginUrl(platform.url, 'cam-2', 'other'))) as { status: number }).status,
        403,
      );
      // A known device with the wrong password learns nothing about its disabled flag.
      assert.equal(((await open(loginUrl(platform.url, 'cam-2', 'nope'))) as { status: number }).status, 401);
      const ok = await open(loginUrl(platform.url, 'cam-1'));
      assert.ok(ok instanceof WebSocket);
      const { body } = await getJson(`${platform.httpUrl}/api/stats`);
      assert.deepEqual((body.logins as { refused: Record<string, number> }).refused, {
        400: 1,
        401: 5,
        403: 1,
      });
      ok.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('registry file errors say where, never what (the line may hold a password)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivc-reg-'));
    try {
      const yamlFile = join(dir, 'bad.yaml');
      writeFileSync(yamlFile, `- { login_code: cam-1, password: ${PASSWORD}\n- x: [`);
      const jsonFile = join(dir, 'bad.json');
      writeFileSync(jsonFile, `[{"login_code": "cam-1", "password": ${PASSWORD}}]`);
      const missing = join(dir, 'nopass.yaml');
      writeFileSync(missing, '- { login_code: cam-1, password: 5 }');
      for (const [file, message] of [
        [yamlFile, /not valid YAML: syntax error at line 2/],
        [jsonFile, /not valid JSON: syntax error/],
        [missing, /entry 0 \(cam-1\) needs a string password/],
      ] as const) {
        await assert.rejects(startIvc({ auth: { registryFile: file } }), (error: Error) => {
          assert.match(error.message, message);
          assert.equal(error.message.includes(PASSWORD), false, error.message);
          return true;
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('maxDevices refuses with 503 past the limit; a re-login replaces the old connection', async () => {
    const platform = await ivc({ maxDevices: 2 });
    const a = await TestDevice.connect(platform.url, 'a');
    await TestDevice.connect(platform.url, 'b');
    const third = await open(loginUrl(platform.url, 'c'));
    assert.equal((third as { status: number }).status, 503);
    const a2 = await TestDevice.connect(platform.url, 'a');
    const info = await a.closed;
    assert.equal(info.reason, 'closed_by_peer');
    assert.equal(info.detail, 'replaced by a new login');
    await a2.keepalive();
    const stats = (await getJson(`${platform.httpUrl}/api/stats`)).body;
    assert.equal(stats.online, 2);
    assert.equal((stats.logins as { replaced: number }).replaced, 1);
  });

  test('a login delay holds the answer to the upgrade', async () => {
    const platform = await ivc({ loginDelayMs: 150 });
    const started = performance.now();
    const d = await TestDevice.connect(platform.url, 'slow');
    assert.ok(performance.now() - started >= 140);
    d.peer.close();
  });

  test('a port in use gives a clear error', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    await assert.rejects(startIvc({ port }), { message: `port ${port} is already in use on 127.0.0.1` });
    blocker.close();
  });
});

describe('IVC device registry and admin API', () => {
  test('a keepalive shows up in GET /api/devices with its channels', async () => {
    const platform = await ivc();
    const d = await TestDevice.connect(platform.url, 'nvr-1');
    assert.deepEqual(
      await d.keepalive([
        { channel: 0, state: 2, stream_id: 's-0', alarm: 8 },
        { channel: 1, state: 0 },
      ]),
      {},
    );
    const list = (await getJson(`${platform.httpUrl}/api/devices?online=1`)).body as {
      count: number;
      devices: Array<DeviceJson & { login_code: string }>;
    };
    assert.equal(list.count, 1);
    const dev = list.devices[0]!;
    assert.equal(dev.login_code, 'nvr-1');
    assert.equal(dev.online, true);
    assert.equal(dev.hardware_model, 'HW-1');
    assert.deepEqual(dev.channels, [
      { channel: 0, state: 2, stream_id: 's-0', record_session: '', alarm: 8 },
      { channel: 1, state: 0, stream_id: '', record_session: '', alarm: 0 },
    ]);
    assert.equal(dev.keepalives, 1);
    assert.deepEqual(dev.violations, {});
    const limited = (await getJson(`${platform.httpUrl}/api/devices?limit=0`)).body;
    assert.equal(limited.count, 0);
    assert.equal((await getJson(`${platform.httpUrl}/api/devices/nope`)).status, 404);
  });

  test('POST rpc returns the device answer packet as is, success and error alike', async () => {
    const platform = await ivc();
    const d = await TestDevice.connect(platform.url, 'cam-rpc');
    await d.keepalive();
    const base = `${platform.httpUrl}/api/devices/cam-rpc`;
    const first = await post(`${base}/rpc`, '{"req":"GetNetConfig","params":{"channel":0}}');
    assert.equal(first.status, 200);
    assert.equal(first.body.seq, 1);
    assert.equal((first.body.resp as Array<{ ip: string }>)[0]!.ip, '10.1.2.3');
    const second = await post(`${base}/rpc`, '{"req":"RebootChannel","params":{"channel":7}}');
    assert.deepEqual(second.body, { seq: 2, err: { code: 102, msg: 'channel does not exist' } });
    // Params are checked against the IVT schema unless ?raw=1.
    const bad = await post(`${base}/rpc`, '{"req":"RTMPPublish","params":{"channel":0}}');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error as string, /invalid params for RTMPPublish/);
    const unknown = await post(`${base}/rpc`, '{"req":"MakeCoffee"}');
    assert.equal(unknown.status, 400);
    const rawUnknown = await post(`${base}/rpc?raw=1`, '{"req":"MakeCoffee"}');
    assert.deepEqual(rawUnknown.body, { seq: 3, err: { code: 101, msg: 'RPC method not supported' } });
    for (const body of ['not json', '[1]', '{"params":{}}']) {
      const r = await post(`${base}/rpc`, body);
      assert.equal(r.status, 400, body);
      assert.match(r.body.error as string, /body must be JSON \{"req"/);
    }
    assert.equal(
      (
        await post(
          `${platform.httpUrl}/api/devices/ghost/rpc`,
          '{"req":"GetNetConfig","params":{"channel":0}}',
        )
      ).status,
      404,
    );
  });

  test('504 when the device never answers; the timeout fault closes it and is counted', async () => {
    const platform = await ivc({ rpcTimeoutMs: 300 });
    const d = await TestDevice.connect(platform.url, 'mute');
    d.answers.GetNetConfig = () => NO_ANSWER;
    const r = await post(
      `${platform.httpUrl}/api/devices/mute/rpc`,
      '{"req":"GetNetConfig","params":{"channel":0}}',
    );
    assert.equal(r.status, 504);
    assert.match(r.body.error as string, /did not answer GetNetConfig/);
    assert.equal((await d.closed).code, 4002);
    const dev = await device(platform, 'mute');
    assert.equal(dev.online, false);
    assert.equal(dev.violations.answer_timeout, 1);
  });

  test('events, raw text and kick reach the device', async () => {
    const platform = await ivc();
    const d = await TestDevice.connect(platform.url, 'cam-ev');
    const base = `${platform.httpUrl}/api/devices/cam-ev`;
    const ev = await post(
      `${base}/event`,
      '{"event":"CtrlPTZ","params":{"channel":0,"op":"left","value":30}}',
    );
    assert.equal(ev.status, 202);
    await eventually('the event', () => d.events.length === 1);
    assert.deepEqual(d.events[0], ['CtrlPTZ', { channel: 0, op: 'left', value: 30 }]);
    assert.equal((await post(`${base}/event`, '{"event":"CtrlPTZ","params":{"op":"sideways"}}')).status, 400);
    const kick = await post(`${base}/kick`, '');
    assert.deepEqual(kick, { status: 200, body: { kicked: true } });
    assert.equal((await d.closed).detail, 'kicked by the platform');
    await eventually('offline', async () => (await device(platform, 'cam-ev')).online === false);
    assert.equal((await post(`${base}/kick`, '')).status, 404);

    const d2 = await TestDevice.connect(platform.url, 'cam-ev');
    const raw = await post(`${base}/raw`, '{"seq": oops');
    assert.equal(raw.status, 202);
    // The device's own peer closes on the malformed packet, as the protocol requires.
    assert.equal((await d2.closed).reason, 'malformed');
  });

  test('a password never appears in any API output, refusal or page', async () => {
    const platform = await ivc();
    const d = await TestDevice.connect(platform.url, 'cam-secret');
    await d.keepalive();
    const texts: string[] = [];
    for (const path of [
      '/api/devices',
      '/api/devices/cam-secret',
      '/api/stats',
      '/api/rules',
      '/',
      '/?login_code=cam-secret',
    ]) {
      texts.push(await (await fetch(`${platform.httpUrl}${path}`)).text());
    }
    const refused = await open(loginUrl(platform.url, 'cam-secret', `${PASSWORD}-wrong`));
    texts.push(JSON.stringify(refused));
    for (const text of texts) {
      assert.equal(text.includes(PASSWORD), false, text.slice(0, 200));
      assert.equal(text.includes('login_passwd'), false);
    }
  });
});

describe('IVC conformance checks', () => {
  test('bad params, unknown method, seq gap and first-seq rules are counted per device and rule', async () => {
    const platform = await ivc();
    const ws = (await open(loginUrl(platform.url, 'raw-dev'))) as WebSocket;
    const answers: Array<Record<string, unknown>> = [];
    ws.on('message', (d) => answers.push(JSON.parse(d.toString())));
    ws.send('{"req":"Keepalive","seq":5,"params":{"state":1,"channels":[]}}');
    ws.send('{"req":"Keepalive","seq":6,"params":{"state":9,"channels":"none"}}');
    ws.send('{"req":"Reboot","seq":8}');
    ws.send('{"event":"Hello"}');
    await eventually('3 answers', () => answers.length === 3);
    assert.deepEqual(answers[0], { seq: 5, resp: {} });
    assert.equal((answers[1]!.err as { code: number }).code, 1);
    assert.match((answers[1]!.err as { msg: string }).msg, /invalid params/);
    assert.deepEqual(answers[2], { seq: 8, err: { code: 101, msg: 'RPC method not supported' } });
    await eventually(
      'the event',
      async () => (await device(platform, 'raw-dev')).violations.unknown_event === 1,
    );
    const dev = await device(platform, 'raw-dev');
    // Two keepalives back to back at login are the vendor firmware's pair: a quirk, not a violation.
    assert.deepEqual(dev.vendor_quirks, { keepalive_login_pair: 1 });
    assert.deepEqual(dev.violations, {
      seq_start: 1,
      schema: 1,
      unknown_method: 1,
      seq_gap: 1,
      unknown_event: 1,
    });
    // The keepalive with bad params still proves the device alive.
    assert.equal(dev.keepalives, 2);
    const stats = (await getJson(`${platform.httpUrl}/api/stats`)).body;
    assert.equal((stats.violations as Record<string, number>).seq_gap, 1);
    ws.close();
  });

  test('late, early and missing first keepalives are counted and the mean interval recorded', async () => {
    // Wide margins: the machine is shared, so only clearly late or early intervals are asserted.
    // Early: under 300 ms; late: over 900 ms; missing: 1.8 s of silence.
    const platform = await ivc({ keepaliveMs: 600, keepaliveToleranceMs: 300, firstKeepaliveMs: 150 });
    const d = await TestDevice.connect(platform.url, 'drifty');
    // No keepalive right after login: the sweep counts it once.
    await eventually(
      'first late',
      async () => (await device(platform, 'drifty')).violations.keepalive_first_late === 1,
    );
    await d.keepalive();
    await new Promise((r) => setTimeout(r, 1200));
    await d.keepalive(); // late
    await d.keepalive(); // early, judged with the next interval: an early one whose neighbour
    await new Promise((r) => setTimeout(r, 1200)); // makes up one period would be a vendor's
    await d.keepalive(); // out-of-step extra; this neighbour is late, so it is plainly early
    const dev = await device(platform, 'drifty');
    assert.equal(dev.violations.keepalive_first_late, 1);
    assert.equal(dev.violations.keepalive_late, 2);
    assert.equal(dev.violations.keepalive_early, 1);
    assert.ok(dev.keepalive_interval_mean_ms! >= 340, `mean ${dev.keepalive_interval_mean_ms}`);
    d.peer.close();
  });

  test('a silent device is counted once per gap as keepalive_missing', async () => {
    const platform = await ivc({ keepaliveMs: 100, keepaliveToleranceMs: 30, firstKeepaliveMs: 1000 });
    const d = await TestDevice.connect(platform.url, 'silent');
    await d.keepalive();
    await eventually(
      'missing',
      async () => (await device(platform, 'silent')).violations.keepalive_missing === 1,
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await device(platform, 'silent')).violations.keepalive_missing, 1);
    d.peer.close();
  });

  test('with closeOnSeqMismatch off a wrong answer seq is counted and the device stays online', async () => {
    const platform = await ivc({ closeOnSeqMismatch: false, rpcTimeoutMs: 2000 });
    const ws = (await open(loginUrl(platform.url, 'vendor'))) as WebSocket;
    ws.on('message', (data) => {
      const packet = JSON.parse(data.toString()) as { seq: number };
      ws.send(JSON.stringify({ seq: packet.seq + 1, resp: {} }));
      ws.send(JSON.stringify({ seq: packet.seq, resp: [] }));
    });
    const answer = await post(`${platform.httpUrl}/api/devices/vendor/rpc`, '{"req":"GetRTMPPublishConfig"}');
    assert.deepEqual(answer.body, { seq: 1, resp: [] });
    const dev = await device(platform, 'vendor');
    assert.equal(dev.violations.answer_order, 1);
    assert.equal(dev.online, true);
    ws.close();
  });

  test('the monitor socket streams packets and violations and sends hand-written packets', async () => {
    const platform = await ivc();
    const monitor = new WebSocket(`${platform.httpUrl.replace('http', 'ws')}/monitor?login_code=mon-1`);
    const seen: Array<{ type: string; dir?: string; text?: string; rule?: string; device?: unknown }> = [];
    monitor.on('message', (m) => seen.push(JSON.parse(m.toString())));
    await new Promise((resolve) => monitor.once('open', resolve));
    await eventually('hello', () => seen.length === 1);
    assert.deepEqual(seen[0], { type: 'hello', login_code: 'mon-1', device: null });
    const d = await TestDevice.connect(platform.url, 'mon-1');
    await d.keepalive();
    monitor.send(JSON.stringify({ type: 'send', text: '{"req":"GetNetConfig","params":{"channel":0}}' }));
    await eventually('the answer', () => seen.some((m) => m.dir === 'in' && m.text?.includes('10.1.2.3')));
    monitor.send(
      JSON.stringify({ type: 'send', text: '{"event":"CtrlPTZPatrol","params":{"channel":0,"op":"start"}}' }),
    );
    await eventually('the event', () => d.events.length === 1);
    monitor.send(JSON.stringify({ type: 'send', text: 'plain words' }));
    await eventually('an error', () => seen.some((m) => m.type === 'error'));
    assert.deepEqual(await d.peer.request('Bogus'), {
      seq: 2,
      err: { code: 101, msg: 'RPC method not supported' },
    });
    await eventually('a violation', () =>
      seen.some((m) => m.type === 'violation' && m.rule === 'unknown_method'),
    );
    monitor.send(JSON.stringify({ type: 'send', text: 'not a packet', raw: true }));
    assert.equal((await d.closed).reason, 'malformed');
    await eventually('offline status', () =>
      seen.some((m) => m.type === 'status' && (m.device as { online: boolean }).online === false),
    );
    monitor.close();
  });

  test('a malformed packet from the device is counted before the connection closes', async () => {
    const platform = await ivc();
    const ws = (await open(loginUrl(platform.url, 'bad-json'))) as WebSocket;
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('{"req":"Keepalive"');
    assert.equal(await closed, 4003);
    const dev = await device(platform, 'bad-json');
    assert.equal(dev.violations.malformed, 1);
    assert.equal(dev.online, false);
  });

  test('answers out of order and answers that break the schema are counted', async () => {
    const platform = await ivc();
    const d = await TestDevice.connect(platform.url, 'sloppy');
    d.answers.GetNetConfig = () => [{ name: 'eth0' }];
    const r = await post(
      `${platform.httpUrl}/api/devices/sloppy/rpc`,
      '{"req":"GetNetConfig","params":{"channel":0}}',
    );
    assert.deepEqual(r.body, { seq: 1, resp: [{ name: 'eth0' }] });
    assert.equal((await device(platform, 'sloppy')).violations.answer_schema, 1);

    // A raw device that answers with the wrong seq: the platform closes it (4001) and counts it.
    const ws = (await open(loginUrl(platform.url, 'wrong-seq'))) as WebSocket;
    ws.on('message', (data) => {
      const packet = JSON.parse(data.toString()) as { seq: number };
      ws.send(JSON.stringify({ seq: packet.seq + 10, resp: {} }));
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const answer = await post(
      `${platform.httpUrl}/api/devices/wrong-seq/rpc`,
      '{"req":"GetRTMPPublishConfig"}',
    );
    assert.equal(answer.status, 502);
    assert.equal(await closed, 4001);
    assert.equal((await device(platform, 'wrong-seq')).violations.answer_order, 1);
  });
});

describe('IVC command plans', () => {
  test('onDeviceOnline fires on the first keepalive; publish orders go to the configured RTMP base', async () => {
    const platform = await ivc({ rtmpUrlBase: 'rtmp://127.0.0.1:1935/live' });
    const online: string[] = [];
    platform.commands.onDeviceOnline((dev) => online.push(`${dev.loginCode}:${dev.channels.length}`));
    const d = await TestDevice.connect(platform.url, 'cam-plan');
    let published: unknown;
    d.answers.RTMPPublish = (params) => {
      published = params;
      return {};
    };
    assert.deepEqual(online, []);
    await d.keepalive();
    assert.deepEqual(online, ['cam-plan:1']);
    assert.deepEqual(
      [...platform.commands.devicesOnline()].map((r) => r.loginCode),
      ['cam-plan'],
    );
    const order = await platform.commands.publish('cam-plan', {
      channel: 0,
      quality: 'sd',
      streamId: 'st-1',
    });
    assert.deepEqual(order.answer, { seq: 1, resp: {} });
    assert.deepEqual(published, {
      channel: 0,
      quality: 'sd',
      url: 'rtmp://127.0.0.1:1935/live/st-1',
      stream_id: 'st-1',
      max_bitrate: 0,
    });
    await assert.rejects(platform.commands.rpc('nobody', 'GetNetConfig', { channel: 0 }), { status: 404 });
  });

  test('with rtmpIngest on, a publish order points at the ingest and the stream shows in /api/streams', async (t) => {
    if (!existsSync('/usr/bin/ffmpeg')) {
      t.skip('/usr/bin/ffmpeg is missing: no RTMP publisher to test the ingest with');
      return;
    }
    const platform = await ivc({ rtmpIngest: true });
    assert.match(platform.rtmpUrl ?? '', /^rtmp:\/\/127\.0\.0\.1:\d+\/live$/);
    const d = await TestDevice.connect(platform.url, 'cam-live');
    let ffmpeg: ReturnType<typeof spawn> | undefined;
    // The test device publishes with ffmpeg, an RTMP client independent of this project.
    d.answers.RTMPPublish = (params) => {
      const { url } = params as { url: string };
      const media = new URL('../../media/ld.flv', import.meta.url).pathname;
      ffmpeg = spawn(
        'ffmpeg',
        ['-hide_banner', '-loglevel', 'error', '-re', '-t', '2', '-i', media, '-c', 'copy', '-f', 'flv', url],
        {
          stdio: 'ignore',
        },
      );
      return {};
    };
    const order = await platform.commands.publish('cam-live', {
      channel: 0,
      quality: 'ld',
      streamId: 'live-1',
    });
    assert.equal(order.url, `${platform.rtmpUrl}/live-1`);
    type Streams = {
      streams: Array<{ name: string; mediaBytes: number; videoTags: number; violations: number }>;
    };
    await eventually(
      'media at the ingest',
      async () => {
        const { streams } = (await getJson(`${platform.httpUrl}/api/streams`)).body as unknown as Streams;
        return streams.some((s) => s.name === 'live-1' && s.videoTags > 10);
      },
      10_000,
    );
    const { streams } = (await getJson(`${platform.httpUrl}/api/streams`)).body as unknown as Streams;
    assert.equal(streams[0]!.violations, 0);
    ffmpeg?.kill();
  });

  test('GetFirmware, preview_server and AlarmNotify answers point at working endpoints', async () => {
    const platform = await ivc({ firmware: [{ firmware_model: 'FW-2', size: 200_000 }] });
    const d = await TestDevice.connect(platform.url, 'cam-fw');
    assert.deepEqual(await d.peer.call('preview_server'), { url: '' });
    const fw = (await d.peer.call('GetFirmware')) as { firmware_model: string; url: string };
    assert.equal(fw.firmware_model, 'FW-2');
    const blob = await fetch(fw.url);
    assert.equal(blob.status, 200);
    assert.equal((await blob.arrayBuffer()).byteLength, 200_000);
    const alarm = (await d.peer.call('AlarmNotify', {
      channel: 0,
      type: 3,
      state: 'start',
      desc: 'motion',
    })) as {
      pic_upload_url: string;
    };
    assert.match(alarm.pic_upload_url, /\/upload\/alarm\/cam-fw\/0$/);
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(1000, 7)]);
    const up = await fetch(alarm.pic_upload_url, {
      method: 'POST',
      body: jpeg,
      headers: { 'content-type': 'image/jpeg' },
    });
    assert.equal(up.status, 200);
    const notJpeg = await fetch(alarm.pic_upload_url, { method: 'POST', body: 'GIF89a' });
    assert.equal(notJpeg.status, 400);
    const end = (await d.peer.call('AlarmNotify', { channel: 0, type: 3, state: 'end', desc: '' })) as {
      pic_upload_url: string;
    };
    assert.equal(end.pic_upload_url, '');
    const dev = (await device(platform, 'cam-fw')) as DeviceJson & {
      alarms: number;
      alarm_pictures: number;
      alarm_picture_bytes: number;
    };
    assert.deepEqual([dev.alarms, dev.alarm_pictures, dev.alarm_picture_bytes], [2, 1, 1004]);
    assert.equal(dev.violations.alarm_picture, 1);
  });
});
