// Fuzz: random HTTP requests (methods, paths, Host, Origin, Content-Type, token, bodies) against
// the reference platform's HTTP server, which has an admin token and one online device. Never a
// 5xx, never a command reaching the device unless the request had every right (POST, JSON,
// the platform's own Host and Origin, the token), and the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { type RunningIvc, startIvc } from '../src/ivc/index.js';
import { eventually } from '../support/eventually.js';
import { loginUrl, openSocket, rawRequest } from '../support/ivc-client.js';
import { checkProperty } from './fuzz-support.js';

const TOKEN = 'fuzz-admin-token-0123456789';
const TARGET = 'target-1';
let ivc: RunningIvc;

/** The online device the commands aim at: counts every packet the platform sends it. */
class TargetDevice {
  received = 0;
  private seq = 0;
  private waiting = new Map<number, () => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      let packet: Record<string, unknown> = {};
      try {
        packet = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {}
      const done = typeof packet.seq === 'number' && !('req' in packet) && this.waiting.get(packet.seq);
      if (done) {
        this.waiting.delete(packet.seq as number);
        done();
        return;
      }
      this.received++;
      if (typeof packet.req === 'string') ws.send(JSON.stringify({ seq: packet.seq, resp: [] }));
    });
    ws.on('error', () => {});
  }

  static async login(): Promise<TargetDevice> {
    const ws = await openSocket(loginUrl(ivc.url, TARGET));
    assert.ok(ws instanceof WebSocket, `login refused: ${JSON.stringify(ws)}`);
    const device = new TargetDevice(ws);
    await device.sync();
    return device;
  }

  get online(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** A Keepalive round trip: whatever the platform sent before its answer has arrived by then. */
  sync(): Promise<void> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no Keepalive answer within 10 s')), 10_000);
      this.waiting.set(seq, () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.send(
        JSON.stringify({ req: 'Keepalive', seq, params: { state: 1, channels: [{ channel: 0, state: 1 }] } }),
      );
    });
  }
}

let target: TargetDevice;
before(async () => {
  ivc = await startIvc({ port: 0, adminToken: TOKEN });
  target = await TargetDevice.login();
});
after(() => ivc.close());

const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9%._~!$&'()*+,;=:@-]{0,24}$/),
  fc.constantFrom('', '%', '%zz', '%E0%A4%A', '..', '%2F', '%00', TARGET, 'x'.repeat(5000)),
);
const action = fc.oneof(fc.constantFrom('rpc', 'event', 'raw', 'kick'), segment);
const path = fc.oneof(
  { weight: 4, arbitrary: action.map((a) => `/api/devices/${TARGET}/${a}`) },
  fc.tuple(segment, action).map(([code, a]) => `/api/devices/${code}/${a}`),
  fc.constantFrom('/', '/api/devices', `/api/devices/${TARGET}`, '/api/stats', '/api/streams', '/api/rules'),
  fc.constantFrom('/api/session', '/monitor', '/ivc', '/api', '/api/', '//', '/api//devices'),
  segment.map((s) => `/api/recordings/${s}`),
  segment.map((s) => `/record/${s}`),
  fc.tuple(segment, segment).map(([a, b]) => `/upload/alarm/${a}/${b}`),
  fc.tuple(segment, segment).map(([a, b]) => `/upload/record/${a}/${b}`),
  segment.map((s) => `/firmware/${s}`),
  fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('limit', 'after', 'online', 'raw', 'login_code', 'x'),
        fc.oneof(segment, fc.constantFrom('1', '-1', '1e3', '1000', '1001', '0.5', '9007199254740993')),
      ),
      { maxLength: 3 },
    )
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
);

const body = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    JSON.stringify({ req: 'GetNetConfig', params: { channel: 0 } }),
    JSON.stringify({ event: 'SyncTime', params: { datetime: '2026-01-01T00:00:00', offset: 5 } }),
    JSON.stringify({ req: 'RTMPPublish', params: { channel: 0 } }),
    JSON.stringify({ token: TOKEN }),
    JSON.stringify({ token: 'wrong' }),
  ),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 100 }),
  fc.constant('x'.repeat(1024 * 1024 + 10)), // over the admin API's body limit
);

/** The headers of a WebSocket handshake: the same paths, through the server's upgrade handler. */
const WEBSOCKET_UPGRADE = {
  connection: 'Upgrade',
  upgrade: 'websocket',
  'sec-websocket-version': '13',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
};

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** Mostly the well-formed choices (so requests reach the handlers), sometimes the others. */
function mostly<T>(good: readonly T[], others: readonly T[]): fc.Arbitrary<T> {
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...good) }, fc.constantFrom(...others));
}

const request = fc
  .record({
    method: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('GET', 'POST') },
      fc.constantFrom('HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      fc.stringMatching(/^[A-Z]{3,8}$/),
    ),
    path: fc.tuple(path, query).map(([p, q]) => p + q),
    host: mostly(
      ['own', 'localhost', 'ipv6'],
      ['evil.example', 'evil.example:port', 'localhost.evil.example', '[', 'a b', '127.0.0.1:99999'],
    ),
    origin: mostly(
      [undefined, 'own', 'http://localhost:port'],
      ['http://evil.example', 'http://127.0.0.1:1', 'null', 'garbage'],
    ),
    contentType: mostly(
      ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'],
      [
        undefined,
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/jsonx',
      ],
    ),
    authorization: mostly(
      [`Bearer ${TOKEN}`],
      [undefined, 'Bearer wrong-token-0123456789', 'Basic eDp5', 'Bearer '],
    ),
    body,
    upgrade: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, fc.constant(true)),
  })
  .map(({ host, origin, contentType, authorization, upgrade, ...rest }) => {
    const port = String(ivc.port);
    const names: Record<string, string> = {
      own: `127.0.0.1:${port}`,
      localhost: `localhost:${port}`,
      ipv6: `[::1]:${port}`,
    };
    const headers: Record<string, string> = { host: (names[host] ?? host).replace('port', port) };
    if (origin !== undefined)
      headers.origin = origin === 'own' ? `http://127.0.0.1:${port}` : origin.replace('port', port);
    if (contentType !== undefined) headers['content-type'] = contentType;
    if (authorization !== undefined) headers.authorization = authorization;
    if (upgrade) Object.assign(headers, WEBSOCKET_UPGRADE);
    return Object.assign({ ...rest, headers }, { [fc.toStringMethod]: () => describe({ ...rest, headers }) });
  });

function describe(r: FuzzRequest): string {
  const size =
    r.body === undefined
      ? 'no body'
      : r.body.length > 200
        ? `${r.body.length} bytes`
        : JSON.stringify(r.body);
  return `${r.method} ${r.path.slice(0, 200)} ${JSON.stringify(r.headers)} ${size}`;
}

/** Whether the request has every right to change state, judged from the outside. */
function mayChangeState(r: FuzzRequest): boolean {
  const port = String(ivc.port);
  const host = r.headers.host ?? '';
  const hostOk = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host);
  const origin = r.headers.origin;
  const originOk =
    origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
  const json = (r.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
  return r.method === 'POST' && hostOk && originOk && json && r.headers.authorization === `Bearer ${TOKEN}`;
}

test('random admin API requests: never a 5xx, never a state change without every right', async (t) => {
  const counts = new Map<number, number>();
  const details = await checkProperty(
    fc.asyncProperty(request, async (r) => {
      if (!target.online) target = await TargetDevice.login();
      const before = target.received;
      const res = await rawRequest(`${ivc.httpUrl}${r.path}`, r);
      counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
      assert.ok(res.status >= 101 && res.status < 500, `status ${res.status}: ${res.body.slice(0, 300)}`);
      if (res.headers['set-cookie'] !== undefined)
        assert.ok(
          mayChangeState(r) && r.path.startsWith('/api/session'),
          'a browser session opened without the right',
        );
      // Whatever the platform sent the device before answering its Keepalive has arrived now.
      if (target.online) await target.sync();
      const changed = target.received !== before || !target.online;
      if (changed)
        assert.ok(mayChangeState(r), `the device got ${target.received - before} packet(s) or was kicked`);
    }),
    150,
  );
  t.diagnostic(
    `${details.numRuns} runs, seed ${details.seed}, statuses ${JSON.stringify([...counts].sort())}`,
  );
  // Nothing was ever ordered, so no recording may exist; and the server still serves.
  assert.equal(ivc.platform.stats.recordCreates, 0);
  const stats = await fetch(`${ivc.httpUrl}/api/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(stats.status, 200);
  if (!target.online) target = await TargetDevice.login();
  await eventually('the device to be listed online', async () => {
    const res = await fetch(`${ivc.httpUrl}/api/devices/${TARGET}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return res.status === 200 && ((await res.json()) as { online?: boolean }).online === true;
  });
});

// Found by this fuzzer: `new URL('//[', base)` threw in the upgrade handler and ended the process.
test('a request target such as //[ gets a 4xx over HTTP and as a WebSocket upgrade, and the platform keeps serving', async () => {
  const { connect } = await import('node:net');
  for (const upgrade of [false, true]) {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(ivc.port, '127.0.0.1', () =>
        socket.write(
          `GET //[ HTTP/1.1\r\nHost: 127.0.0.1:${ivc.port}\r\n` +
            (upgrade
              ? 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
              : 'Connection: close\r\n') +
            '\r\n',
        ),
      );
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 4\d\d /, `${upgrade ? 'upgrade' : 'request'}: ${answer.slice(0, 200)}`);
  }
  const stats = await fetch(`${ivc.httpUrl}/api/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(stats.status, 200);
});
