import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { type IvcOptions, type RunningIvc, startIvc } from '../src/ivc/index.js';
import type { CloseInfo } from '../src/protocol/close-reason.js';
import { RpcError } from '../src/protocol/errors.js';
import { type PeerHandler, RpcPeer } from '../src/protocol/peer.js';
import { eventually } from '../support/eventually.js';
import {
  closed,
  exchange,
  idleSocket,
  keepaliveText,
  loginUrl,
  openSocket,
  rawRequest,
} from '../support/ivc-client.js';

const TOKEN = 'admin-token-0123456789-abcdef';
const running: RunningIvc[] = [];
after(async () => {
  await Promise.all(running.map((ivc) => ivc.close()));
});

async function ivc(options: IvcOptions = {}): Promise<RunningIvc> {
  const started = await startIvc(options);
  running.push(started);
  return started;
}

/** A device that answers GetWifiStatusAndConfig with a Wi-Fi password, and counts the calls. */
class WifiDevice implements PeerHandler {
  calls = 0;
  handleRequest(method: string): unknown {
    if (method !== 'GetWifiStatusAndConfig') throw new RpcError(101);
    this.calls++;
    return { status: 1, ssid: 'lab', password: 'wifi-secret-pw', encryption: 'wpa2' };
  }
  handleEvent(): void {}
  onPeerClose(_info: CloseInfo): void {}
}

async function wifiDevice(platform: RunningIvc, loginCode: string): Promise<WifiDevice> {
  const ws = await openSocket(loginUrl(platform.url, loginCode));
  assert.ok(ws instanceof WebSocket, `login refused: ${JSON.stringify(ws)}`);
  const device = new WifiDevice();
  const peer = new RpcPeer(ws, device);
  await peer.call('Keepalive', { state: 1, channels: [{ channel: 0, state: 1 }] });
  return device;
}

/** Stats of the platform as its admin API reports them. */
async function stats(
  platform: RunningIvc,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const response = await fetch(`${platform.httpUrl}/api/stats`, { headers });
  return (await response.json()) as Record<string, unknown>;
}

const RPC_BODY = JSON.stringify({ req: 'GetWifiStatusAndConfig', params: { channel: 0 } });

describe('admin API and monitor from other origins', () => {
  test('an RPC needs Content-Type application/json, a Host of the platform and its own Origin', async () => {
    const platform = await ivc();
    const device = await wifiDevice(platform, 'wifi-1');
    const rpcUrl = `${platform.httpUrl}/api/devices/wifi-1/rpc`;
    const post = (headers: Record<string, string>) =>
      rawRequest(rpcUrl, { method: 'POST', headers, body: RPC_BODY });

    // What a page elsewhere can send without a preflight: text/plain.
    const plain = await post({ 'content-type': 'text/plain' });
    assert.equal(plain.status, 415);
    assert.match(plain.body, /application\/json/);
    const foreign = await post({ 'content-type': 'application/json', origin: 'http://127.0.0.2:8000' });
    assert.equal(foreign.status, 403);
    assert.match(foreign.body, /origin http:\/\/127\.0\.0\.2:8000/);
    // Same host, another port: another origin.
    const otherPort = await post({ 'content-type': 'application/json', origin: 'http://127.0.0.1:1' });
    assert.equal(otherPort.status, 403);
    assert.equal((await post({ 'content-type': 'application/json', origin: 'null' })).status, 403);
    // DNS rebinding: the browser thinks it talks to evil.example.
    const rebound = await post({ 'content-type': 'application/json', host: `evil.example:${platform.port}` });
    assert.equal(rebound.status, 403);
    assert.match(rebound.body, /Host evil\.example/);
    assert.equal(
      (await rawRequest(`${platform.httpUrl}/api/devices`, { headers: { origin: 'http://127.0.0.2:8000' } }))
        .status,
      403,
    );
    assert.equal(device.calls, 0);

    const own = await post({ 'content-type': 'application/json; charset=utf-8', origin: platform.httpUrl });
    assert.equal(own.status, 200);
    assert.match(own.body, /wifi-secret-pw/);
    const viaLocalhost = await post({
      'content-type': 'application/json',
      origin: `http://localhost:${platform.port}`,
      host: `localhost:${platform.port}`,
    });
    assert.equal(viaLocalhost.status, 200);
    assert.equal(device.calls, 2);
  });

  test('the monitor socket refuses other origins and opens for its own', async () => {
    const platform = await ivc();
    const monitorUrl = `${platform.url.replace(/\/ivc$/, '')}/monitor?login_code=m-1`;
    const foreign = await openSocket(monitorUrl, { origin: 'http://127.0.0.2:8000' });
    assert.ok(!(foreign instanceof WebSocket));
    assert.equal(foreign.status, 403);
    const rebound = await openSocket(monitorUrl, { headers: { host: `evil.example:${platform.port}` } });
    assert.ok(!(rebound instanceof WebSocket));
    assert.equal(rebound.status, 403);
    // The hello comes with the upgrade answer: listen before the socket opens.
    const own = new WebSocket(monitorUrl, { origin: platform.httpUrl });
    const hello = await new Promise<string>((resolve, reject) => {
      own.once('message', (d) => resolve(d.toString()));
      own.once('error', reject);
    });
    assert.match(hello, /"type":"hello"/);
    own.close();
  });

  test('with an admin token every admin and monitor request needs it; devices do not', async () => {
    const platform = await ivc({ adminToken: TOKEN, allowedOrigins: ['https://ivc.lab.example'] });
    const device = await wifiDevice(platform, 'tok-1');
    const rpcUrl = `${platform.httpUrl}/api/devices/tok-1/rpc`;
    const json = { 'content-type': 'application/json' };

    for (const path of ['/api/devices', '/api/devices/tok-1', '/api/stats', '/api/rules']) {
      const res = await rawRequest(`${platform.httpUrl}${path}`, {});
      assert.equal(res.status, 401, path);
      assert.ok(!res.body.includes(TOKEN));
    }
    const wrong = await rawRequest(rpcUrl, {
      method: 'POST',
      headers: { ...json, authorization: 'Bearer not-the-token-at-all' },
      body: RPC_BODY,
    });
    assert.equal(wrong.status, 401);
    assert.ok(!wrong.body.includes(TOKEN));
    assert.equal(device.calls, 0);
    const right = await rawRequest(rpcUrl, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${TOKEN}` },
      body: RPC_BODY,
    });
    assert.equal(right.status, 200);
    assert.equal(device.calls, 1);

    const monitorUrl = `${platform.url.replace(/\/ivc$/, '')}/monitor?login_code=tok-1`;
    const anonymous = await openSocket(monitorUrl);
    assert.ok(!(anonymous instanceof WebSocket));
    assert.equal(anonymous.status, 401);
    const withToken = await openSocket(monitorUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.ok(withToken instanceof WebSocket);
    withToken.close();

    // The monitor page's way: the token once for an HttpOnly cookie.
    const session = `${platform.httpUrl}/api/session`;
    assert.deepEqual(JSON.parse((await rawRequest(session, {})).body), {
      token_required: true,
      authenticated: false,
    });
    const badLogin = await rawRequest(session, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ token: 'guess-guess-guess-guess' }),
    });
    assert.equal(badLogin.status, 401);
    assert.equal(badLogin.headers['set-cookie'], undefined);
    const login = await rawRequest(session, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ token: TOKEN }),
    });
    assert.equal(login.status, 200);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    assert.match(String(login.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
    assert.ok(!cookie.includes(TOKEN));
    assert.equal((await rawRequest(`${platform.httpUrl}/api/devices`, { headers: { cookie } })).status, 200);
    const byCookie = await openSocket(monitorUrl, { headers: { cookie } });
    assert.ok(byCookie instanceof WebSocket);
    byCookie.close();

    // An extra origin given at start is accepted.
    const extra = await rawRequest(`${platform.httpUrl}/api/stats`, {
      headers: {
        origin: 'https://ivc.lab.example',
        host: 'ivc.lab.example',
        authorization: `Bearer ${TOKEN}`,
      },
    });
    assert.equal(extra.status, 200);
  });

  test('a platform bound to a non-loopback address refuses to start without a long enough admin token', async () => {
    await assert.rejects(startIvc({ host: '0.0.0.0' }), /admin token/);
    await assert.rejects(startIvc({ host: '0.0.0.0', adminToken: 'short' }), /at least 16 characters/);
    await assert.rejects(
      startIvc({ allowedOrigins: ['http://['] }),
      /allowed origin "http:\/\/\[" is neither/,
    );
  });
});

describe('HTTP methods', () => {
  test('a wrong method gets 405 with Allow; unknown paths 404; the WebSocket endpoints 426', async () => {
    const platform = await ivc();
    const cases: Array<[string, string, number, string | undefined]> = [
      ['GET', '/record/abc', 405, 'POST'],
      ['DELETE', '/api/devices', 405, 'GET, HEAD'],
      ['OPTIONS', '/api/devices/x/rpc', 405, 'POST'],
      ['GET', '/api/devices/x/kick', 405, 'POST'],
      ['PUT', '/', 405, 'GET, HEAD'],
      ['POST', '/firmware/ivc-fw-1.0.0.bin', 405, 'GET, HEAD'],
      ['GET', '/upload/record/s/0001.ts', 405, 'PUT'],
      ['GET', '/nope', 404, undefined],
      ['GET', '/api/devices/x/explode', 404, undefined],
      ['GET', '/ivc', 426, undefined],
    ];
    for (const [method, path, status, allow] of cases) {
      const res = await rawRequest(`${platform.httpUrl}${path}`, { method });
      assert.equal(res.status, status, `${method} ${path}`);
      assert.equal(res.headers.allow, allow, `${method} ${path}`);
    }
  });
});

describe('bounded state per client', () => {
  test('a long login code is refused; long models, many channels and big Keepalives are cut and counted', async () => {
    const platform = await ivc();
    const long = await openSocket(loginUrl(platform.url, 'x'.repeat(257)));
    assert.ok(!(long instanceof WebSocket));
    assert.equal(long.status, 400);
    assert.match(long.body, /login_code longer than 256/);

    const ws = await openSocket(loginUrl(platform.url, 'big-1', { hardware_model: 'H'.repeat(5000) }));
    assert.ok(ws instanceof WebSocket);
    // 30k channels: about 0.85 MB, over the Keepalive limit but under the 1 MiB message limit.
    const huge = keepaliveText(1, 30_000);
    assert.ok(huge.length > 800_000 && huge.length < 1024 * 1024);
    assert.equal(await exchange(ws, huge), '{"seq":1,"resp":{}}');
    const device = async () =>
      (await (await fetch(`${platform.httpUrl}/api/devices/big-1`)).json()) as {
        channels: Array<{ stream_id: string }>;
        hardware_model: string;
        violations: Record<string, number>;
        keepalives: number;
      };
    let seen = await device();
    assert.equal(seen.channels.length, 0);
    assert.equal(seen.keepalives, 1);
    assert.equal(seen.hardware_model.length, 256);

    assert.equal(await exchange(ws, keepaliveText(2, 300)), '{"seq":2,"resp":{}}');
    const longIds = JSON.stringify({
      req: 'Keepalive',
      seq: 3,
      params: { state: 1, channels: [{ channel: 0, state: 2, stream_id: 's'.repeat(10_000) }] },
    });
    seen = await device();
    assert.equal(seen.channels.length, 256);
    await exchange(ws, longIds);
    seen = await device();
    assert.equal(seen.channels[0]!.stream_id.length, 256);
    // (Keepalives sent back to back also count as early: not what this test is about.)
    const { keepalive_early: _early, ...limits } = seen.violations;
    assert.deepEqual(limits, { limit_string: 2, limit_keepalive: 1, limit_channels: 1 });
    const s = await stats(platform);
    assert.equal((s.violations as Record<string, number>).limit_string, 3);
    assert.equal(s.devices_known, 1);
    ws.close();
  });

  test('a message over the 1 MiB limit is refused unread: closed with 1009, counted as limit_message', async () => {
    const platform = await ivc();
    const ws = await openSocket(loginUrl(platform.url, 'huge-1'));
    assert.ok(ws instanceof WebSocket);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(keepaliveText(1, 125_000)); // 125k channels, about 3.5 MB
    assert.equal(await closed, 1009);
    const s = await stats(platform);
    assert.equal((s.violations as Record<string, number>).limit_message, 1);
  });

  test('offline records past maxOfflineDevices are forgotten, oldest first, and counted', async () => {
    const platform = await ivc({ limits: { maxOfflineDevices: 3 } });
    const stay = await openSocket(loginUrl(platform.url, 'stay'));
    assert.ok(stay instanceof WebSocket);
    for (let i = 0; i < 6; i++) {
      const ws = await openSocket(loginUrl(platform.url, `gone-${i}`));
      assert.ok(ws instanceof WebSocket);
      await exchange(ws, keepaliveText(1, 1));
      ws.close();
      await eventually(`gone-${i} offline`, () => platform.platform.sessions.size === 1);
    }
    const s = await stats(platform);
    assert.equal(s.devices_known, 4);
    assert.equal(s.devices_evicted, 3);
    const list = (await (await fetch(`${platform.httpUrl}/api/devices`)).json()) as {
      devices: Array<{ login_code: string }>;
    };
    assert.deepEqual(
      list.devices.map((d) => d.login_code),
      ['stay', 'gone-3', 'gone-4', 'gone-5'],
    );
    assert.equal((await fetch(`${platform.httpUrl}/api/devices/gone-0`)).status, 404);
    stay.close();
  });

  test('GET /api/devices is paged: ?limit (default 100, at most 1000) and ?after', async () => {
    const platform = await ivc();
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 105; i++) {
      const ws = await openSocket(loginUrl(platform.url, `p-${String(i).padStart(3, '0')}`));
      assert.ok(ws instanceof WebSocket);
      sockets.push(ws);
    }
    type Page = {
      count: number;
      next: string | null;
      online: number;
      devices: Array<{ login_code: string }>;
    };
    const page = async (query: string) =>
      (await (await fetch(`${platform.httpUrl}/api/devices${query}`)).json()) as Page;
    const first = await page('');
    assert.equal(first.count, 100);
    assert.equal(first.online, 105);
    assert.ok(first.next !== null);
    const rest = await page(`?after=${first.next}`);
    assert.deepEqual(
      rest.devices.map((d) => d.login_code),
      ['p-100', 'p-101', 'p-102', 'p-103', 'p-104'],
    );
    assert.equal(rest.next, null);

    // Walking pages of 7 sees every device once, in order, while some leave.
    sockets[3]!.close();
    await eventually('p-003 offline', () => platform.platform.sessions.size === 104);
    const seen: string[] = [];
    let after: string | null = '0';
    while (after !== null) {
      const p: Page = await page(`?limit=7&after=${after}`);
      seen.push(...p.devices.map((d) => d.login_code));
      after = p.next;
    }
    assert.equal(seen.length, 105);
    assert.equal(new Set(seen).size, 105);
    const online = await page('?online=1&limit=5');
    assert.deepEqual(
      online.devices.map((d) => d.login_code),
      ['p-000', 'p-001', 'p-002', 'p-004', 'p-005'],
    );
    assert.equal((await fetch(`${platform.httpUrl}/api/devices?limit=1001`)).status, 400);
    assert.equal((await fetch(`${platform.httpUrl}/api/devices?after=p-001`)).status, 400);
    for (const ws of sockets) ws.close();
  });

  test('a recording exists only when the platform ordered it; its fields are bounded', async () => {
    const platform = await ivc();
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const stranger = `s${'x'.repeat(15_000)}`;
    const res = await rawRequest(`${platform.httpUrl}/record/${stranger}`, {
      method: 'POST',
      headers: form,
      body: 'op=create&size=188',
    });
    assert.equal(res.status, 404);
    assert.ok(res.body.length < 300, 'the answer does not echo the whole id');
    const put = await rawRequest(`${platform.httpUrl}/upload/record/${stranger}/0001.ts`, {
      method: 'PUT',
      body: 'x',
    });
    assert.equal(put.status, 404);
    assert.equal(platform.platform.recordings.size, 0);
    assert.equal(((await stats(platform)).record as Record<string, number>).unknown_session, 2);

    // Ordered through the admin API (as a person would): the session now exists.
    const ws = await openSocket(loginUrl(platform.url, 'rec-1'));
    assert.ok(ws instanceof WebSocket);
    new RpcPeer(ws, {
      handleRequest: () => ({}),
      handleEvent: () => {},
      onPeerClose: () => {},
    });
    const cbk = `${platform.httpUrl}/record/my-session`;
    const ordered = await fetch(`${platform.httpUrl}/api/devices/rec-1/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        req: 'StartCloudRecord',
        params: {
          session_id: 'my-session',
          channel: 0,
          quality: 'sd',
          max_bitrate: 0,
          seg_duration: 4,
          seg_max_size: 1 << 20,
          seg_max_count: 4,
          prerecord_seconds: 0,
          start_ts: 0,
          cbk_url: cbk,
        },
      }),
    });
    assert.equal(ordered.status, 200);
    const create = await rawRequest(cbk, { method: 'POST', headers: form, body: 'op=create&size=188' });
    assert.equal(create.status, 200);
    assert.equal(JSON.parse(create.body).name, '0001.ts');
    const longName = await rawRequest(cbk, {
      method: 'POST',
      headers: form,
      body: `op=create&size=188&last_file_name=${'n'.repeat(60_000)}`,
    });
    assert.equal(longName.status, 400);
    assert.match(longName.body, /last_file_name longer than 256/);
    assert.equal(platform.platform.recordings.size, 1);
    ws.close();
  });
});

describe('timeouts', () => {
  test('idle connections, slow request heads and slow bodies are closed; upgraded sockets are not', async () => {
    const platform = await ivc({ handshakeTimeoutMs: 400, requestTimeoutMs: 800 });
    const idle = await Promise.all(Array.from({ length: 50 }, () => idleSocket(platform.port)));
    const idleClosed = idle.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
    // A head that trickles in, one header line at a time.
    const slow = await idleSocket(platform.port);
    slow.write('GET /api/stats HTTP/1.1\r\n');
    const trickle = setInterval(() => slow.write('X-Slow: 1\r\n'), 50);
    const slowClosed = new Promise<void>((resolve) =>
      slow.once('close', () => {
        clearInterval(trickle);
        resolve();
      }),
    );
    // A body that never completes.
    const body = await idleSocket(platform.port);
    body.write(
      'POST /api/devices/x/rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Content-Length: 100\r\n\r\n{"req":',
    );
    const bodyClosed = new Promise<void>((resolve) => body.once('close', () => resolve()));
    let bodyAnswer = '';
    body.on('data', (d: Buffer) => {
      bodyAnswer += d.toString();
    });
    // A device that completed its upgrade stays.
    const device = await openSocket(loginUrl(platform.url, 'fast'));
    assert.ok(device instanceof WebSocket);

    await Promise.all([...idleClosed, slowClosed, bodyClosed]);
    assert.match(bodyAnswer, /^HTTP\/1\.1 408 /);
    assert.ok(platform.platform.stats.connectionTimeouts >= 52);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(device.readyState, WebSocket.OPEN);
    assert.equal((await fetch(`${platform.httpUrl}/api/stats`)).status, 200);
    device.close();
  });

  test('a device silent for keepaliveMissingPeriods periods is closed, offline and counted', async () => {
    const platform = await ivc({ keepaliveMs: 200, firstKeepaliveMs: 100, keepaliveMissingPeriods: 3 });
    const silent = await openSocket(loginUrl(platform.url, 'silent'));
    assert.ok(silent instanceof WebSocket);
    const talker = await openSocket(loginUrl(platform.url, 'talker'));
    assert.ok(talker instanceof WebSocket);
    let seq = 0;
    const beat = setInterval(() => talker.send(keepaliveText(++seq, 1)), 150);
    const sentAt = Date.now();
    assert.equal(await exchange(silent, keepaliveText(1, 1)), '{"seq":1,"resp":{}}');
    const end = await closed(silent);
    const after = Date.now() - sentAt;
    clearInterval(beat);
    assert.ok(after >= 600, `closed after ${after} ms, before 3 periods`);
    assert.match(end.reason, /keepalive timeout/);
    const record = (await (await fetch(`${platform.httpUrl}/api/devices/silent`)).json()) as {
      online: boolean;
      last_close: { reason: string };
      violations: Record<string, number>;
    };
    assert.equal(record.online, false);
    assert.equal(record.last_close.reason, 'keepalive_timeout');
    assert.equal(record.violations.keepalive_missing, 1);
    const s = await stats(platform);
    assert.equal((s.disconnects as Record<string, number>).keepalive_timeout, 1);
    assert.equal(talker.readyState, WebSocket.OPEN);
    talker.close();
  });
});

describe('a flood from many clients leaves nothing behind (bench/ivc-hardening.ts runs it full size)', () => {
  test('big Keepalives that leave, unordered /record posts, idle sockets and silent devices', {
    timeout: 120_000,
  }, async () => {
    const platform = await ivc({ handshakeTimeoutMs: 1000, keepaliveMs: 300, firstKeepaliveMs: 300 });
    const huge = keepaliveText(1, 125_000);
    for (let i = 0; i < 20; i++) {
      const ws = await openSocket(loginUrl(platform.url, `flood-${i}`));
      assert.ok(ws instanceof WebSocket);
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.send(huge);
      await closed; // refused unread (1009)
    }
    const posts = Array.from({ length: 500 }, (_, i) =>
      rawRequest(`${platform.httpUrl}/record/${i}${'x'.repeat(15_000)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `op=create&size=1&last_file_name=${'n'.repeat(60_000)}`,
      }).then(
        (r) => r.status,
        // The 404 may come (and the socket close) while the client still writes the 60 KB body.
        (error: NodeJS.ErrnoException) => error.code ?? 'error',
      ),
    );
    const outcomes = await Promise.all(posts);
    assert.ok(
      outcomes.every((o) => o === 404 || o === 'ECONNRESET' || o === 'EPIPE'),
      `outcomes: ${[...new Set(outcomes)].join(', ')}`,
    );
    const idle: Socket[] = await Promise.all(Array.from({ length: 500 }, () => idleSocket(platform.port)));
    const silent = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const ws = await openSocket(loginUrl(platform.url, `mute-${i}`));
        assert.ok(ws instanceof WebSocket);
        return ws;
      }),
    );
    await eventually('every silent device offline', () => platform.platform.sessions.size === 0, 30_000);
    await eventually('every idle socket closed', () => idle.every((s) => s.destroyed), 30_000);
    // The platform forgets the session before the client has read its close frame.
    await eventually(
      "every silent device's socket closed",
      () => silent.every((ws) => ws.readyState !== WebSocket.OPEN),
      10_000,
    );
    assert.equal(platform.platform.recordings.size, 0);
    for (const record of platform.platform.devices.values()) {
      assert.equal(record.channels.length, 0);
      if (record.loginCode.startsWith('mute-')) assert.equal(record.lastClose?.reason, 'keepalive_timeout');
    }
    const s = await stats(platform);
    assert.equal((s.violations as Record<string, number>).limit_message, 20);
    assert.ok((s.connection_timeouts as number) >= 500, `connection timeouts ${s.connection_timeouts}`);
  });
});
