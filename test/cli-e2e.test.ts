import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';

const cli = new URL('../src/cli.js', import.meta.url).pathname;
const PASSWORD = 'e2e-Secret-pw-123';
const children: ChildProcess[] = [];

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
  children.push(child);
  let text = '';
  child.stdout!.on('data', (d) => {
    text += d;
  });
  child.stderr!.on('data', (d) => {
    text += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface ApiChannel {
  channel: number;
  state: number;
  stream_id?: string;
}
interface ApiDevice {
  login_code: string;
  online: boolean;
  channels: ApiChannel[];
}

describe('ivtfarm ivc + ivtfarm device (the core issue, end to end)', () => {
  test('100 NVR-4 devices come online, RTMPPublish through the admin API goes live, a second is refused', async () => {
    const port = await freePort();
    const ivc = start(['ivc', '--port', String(port), '--password-env', 'E2E_PW'], { E2E_PW: PASSWORD });
    await until('the platform to listen', 10_000, async () =>
      /admin API/.test(ivc.output()) ? true : undefined,
    );
    const api = `http://127.0.0.1:${port}/api`;

    const fleet = start(
      [
        'device',
        '--url',
        `ws://127.0.0.1:${port}/ivc`,
        '--count',
        '100',
        '--channels',
        '4',
        '--login-code',
        'e2e-{index:03}',
      ],
      { IVT_PASSWORD: PASSWORD },
    );
    const devices = await until('100 devices online', 60_000, async () => {
      const list = (await (await fetch(`${api}/devices?online=1`)).json()) as
        | ApiDevice[]
        | { devices: ApiDevice[] };
      const arr = Array.isArray(list) ? list : list.devices;
      return arr.filter((d) => d.online).length === 100 ? arr : undefined;
    });
    assert.equal(devices[0]!.channels.length, 4);

    const rpc = (params: unknown) =>
      fetch(`${api}/devices/e2e-042/rpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ req: 'RTMPPublish', params }),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { seq: number; resp?: unknown; err?: { code: number } },
      }));
    const publish = {
      channel: 2,
      quality: 'sd',
      url: 'rtmp://127.0.0.1:1/live/e2e',
      stream_id: 'stream-e2e-42',
      max_bitrate: 0,
    };
    const first = await rpc(publish);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.resp, {});
    assert.equal(typeof first.body.seq, 'number');

    const second = await rpc({ ...publish, stream_id: 'another-stream' });
    assert.equal(second.body.err?.code, 12);

    // The next keepalive (every 10 s) shows the channel live with its stream id.
    const channel = await until('channel 2 live in a keepalive', 12_000, async () => {
      const d = (await (await fetch(`${api}/devices/e2e-042`)).json()) as ApiDevice;
      const ch = d.channels.find((c) => c.channel === 2);
      return ch?.state === 2 ? ch : undefined;
    });
    assert.equal(channel.stream_id, 'stream-e2e-42');

    fleet.child.kill('SIGINT');
    assert.equal(await fleet.exited, 0);
    ivc.child.kill('SIGINT');
    await ivc.exited;
    const everything = ivc.output() + fleet.output() + JSON.stringify(devices);
    assert.ok(!everything.includes(PASSWORD), 'the password never appears in any output');
    assert.match(fleet.output(), /online 100\/100/);
  });

  test('errors a person understands: port in use, unreachable platform, bad URL, no password', async () => {
    const port = await freePort();
    const first = start(['ivc', '--port', String(port)]);
    await until('the platform to listen', 10_000, async () =>
      /admin API/.test(first.output()) ? true : undefined,
    );
    const second = start(['ivc', '--port', String(port)]);
    assert.equal(await second.exited, 2);
    assert.match(second.output(), new RegExp(`port ${port} is already in use on 127.0.0.1`));
    first.child.kill('SIGINT');
    await first.exited;

    const dead = await freePort();
    const unreachable = start(['device', '--url', `ws://127.0.0.1:${dead}/ivc`], { IVT_PASSWORD: 'x' });
    await until('an explanation', 10_000, async () =>
      /cannot connect to 127\.0\.0\.1:\d+: connection refused/.test(unreachable.output()) ? true : undefined,
    );
    unreachable.child.kill('SIGINT');
    await unreachable.exited;

    const badUrl = start(['device', '--url', 'http://127.0.0.1/ivc'], { IVT_PASSWORD: 'x' });
    assert.notEqual(await badUrl.exited, 0);
    assert.match(badUrl.output(), /must start with ws:\/\/ or wss:\/\//);

    const env = { ...process.env };
    delete env.IVT_PASSWORD;
    const noPassword = spawn(process.execPath, [cli, 'device', '--url', 'ws://127.0.0.1:1/ivc'], { env });
    let text = '';
    noPassword.stderr.on('data', (d) => {
      text += d;
    });
    const code = await new Promise((r) => noPassword.on('close', r));
    assert.equal(code, 2);
    assert.match(text, /no device password: set IVT_PASSWORD/);
  });
});
