import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/free-port.js';
import { type Running, startCli as start } from './cli-process.js';

const cli = new URL('../src/cli.js', import.meta.url).pathname;
const PASSWORD = 'e2e-Secret-pw-123';

interface ApiChannel {
  channel: number;
  state: number;
  stream_id?: string;
  record_session?: string;
  rtmp_in?: { bytes: number; bitrate: number; live: boolean; violations: number };
  record_in?: { segments: number; bytes: number; fails: number };
}
interface ApiDevice {
  login_code: string;
  online: boolean;
  channels: ApiChannel[];
}

interface AdminAnswer {
  seq: number;
  resp?: unknown;
  err?: { code: number };
}

/** POST /api/devices/<code>/rpc: the HTTP status and the device's answer packet. */
async function adminRpc(
  api: string,
  code: string,
  req: string,
  params: unknown,
): Promise<{ status: number; body: AdminAnswer }> {
  const r = await fetch(`${api}/devices/${encodeURIComponent(code)}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ req, params }),
  });
  return { status: r.status, body: (await r.json()) as AdminAnswer };
}

/** `ivtfarm ivc` on free ports, with its RTMP ingest, once it listens. */
async function startPlatform(): Promise<{ ivc: Running; port: number; rtmpPort: number; api: string }> {
  const port = await freePort();
  const rtmpPort = await freePort();
  const ivc = start(
    ['ivc', '--port', String(port), '--rtmp-port', String(rtmpPort), '--password-env', 'E2E_PW'],
    {
      E2E_PW: PASSWORD,
    },
  );
  await eventually(
    'the platform to listen',
    async () => (/RTMP ingest/.test(ivc.output()) ? true : undefined),
    10_000,
    250,
  );
  return { ivc, port, rtmpPort, api: `http://127.0.0.1:${port}/api` };
}

/** `ivtfarm device` with `count` devices against the platform on `port`, plus `extra` flags. */
function startFleet(port: number, count: number, loginCode: string, ...extra: string[]): Running {
  return start(
    [
      'device',
      '--url',
      `ws://127.0.0.1:${port}/ivc`,
      '--count',
      String(count),
      '--login-code',
      loginCode,
      ...extra,
    ],
    { IVT_PASSWORD: PASSWORD },
  );
}

/** Waits until `n` devices are online and have reported their channels; resolves with the list. */
function devicesOnline(api: string, n: number): Promise<ApiDevice[]> {
  return eventually(
    `${n} devices online`,
    async () => {
      const list = (await (await fetch(`${api}/devices?online=1`)).json()) as
        | ApiDevice[]
        | { devices: ApiDevice[] };
      const arr = Array.isArray(list) ? list : list.devices;
      // Online from the login; channels known from the first keepalive, right after it.
      return arr.filter((d) => d.online && d.channels.length > 0).length === n ? arr : undefined;
    },
    60_000,
    250,
  );
}

describe('ivtfarm ivc + ivtfarm device (the core issue, end to end)', () => {
  test('100 NVR-4 devices come online, RTMPPublish through the admin API goes live, a second is refused', async () => {
    const { ivc, port, rtmpPort, api } = await startPlatform();

    const fleet = startFleet(port, 100, 'e2e-{index:03}', '--channels', '4');
    const devices = await devicesOnline(api, 100);
    assert.equal(devices[0]!.channels.length, 4);

    const rpc = (params: unknown) => adminRpc(api, 'e2e-042', 'RTMPPublish', params);
    const publish = {
      channel: 2,
      quality: 'sd',
      url: `rtmp://127.0.0.1:${rtmpPort}/live/stream-e2e-42`,
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
    const channel = await eventually(
      'channel 2 live in a keepalive',
      async () => {
        const d = (await (await fetch(`${api}/devices/e2e-042`)).json()) as ApiDevice;
        const ch = d.channels.find((c) => c.channel === 2);
        return ch?.state === 2 ? ch : undefined;
      },
      12_000,
      250,
    );
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
    await eventually(
      'the platform to listen',
      async () => (/admin API/.test(first.output()) ? true : undefined),
      10_000,
      250,
    );
    const second = start(['ivc', '--port', String(port)]);
    assert.equal(await second.exited, 2);
    assert.match(second.output(), new RegExp(`port ${port} is already in use on 127.0.0.1`));
    first.child.kill('SIGINT');
    await first.exited;

    const dead = await freePort();
    const unreachable = start(['device', '--url', `ws://127.0.0.1:${dead}/ivc`], { IVT_PASSWORD: 'x' });
    await eventually(
      'an explanation',
      async () =>
        /cannot connect to 127\.0\.0\.1:\d+: connection refused/.test(unreachable.output())
          ? true
          : undefined,
      10_000,
      250,
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

  test('ivtfarm device pushes for real: an RTMPPublish ordered through the admin API arrives at its bitrate, a StartCloudRecord uploads segments — with a Unicode login code and a URL-special stream id', async () => {
    const { ivc, port, rtmpPort, api } = await startPlatform();
    const fleet = startFleet(port, 10, '摄像头-{index}', '--alarm-rate', '6');
    const code = '摄像头-7';
    const deviceUrl = `${api}/devices/${encodeURIComponent(code)}`;
    await devicesOnline(api, 10);
    const rpc = async (req: string, params: unknown) => (await adminRpc(api, code, req, params)).body;

    const streamId = '<x> a/b?c#d% 流';
    const published = await rpc('RTMPPublish', {
      channel: 0,
      quality: 'sd',
      url: `rtmp://127.0.0.1:${rtmpPort}/live/${encodeURIComponent(streamId)}`,
      stream_id: streamId,
      max_bitrate: 0,
    });
    assert.deepEqual(published.resp, {});
    const manifest = JSON.parse(
      readFileSync(new URL('../../media/manifest.json', import.meta.url), 'utf8'),
    ) as {
      renditions: Record<string, { bitrate: number }>;
    };
    const sdBitrate = manifest.renditions.sd!.bitrate;
    // The platform's own check: GET /api/devices shows the stream received, at the rendition's bitrate.
    const received = await eventually(
      'the stream received for 6 s',
      async () => {
        const d = (await (await fetch(deviceUrl)).json()) as ApiDevice;
        const ch = d.channels[0]!;
        return ch.stream_id === streamId && ch.rtmp_in && ch.rtmp_in.bytes > (sdBitrate / 8) * 6
          ? ch
          : undefined;
      },
      30_000,
      250,
    );
    assert.equal(received.state, 2);
    assert.equal(received.rtmp_in!.live, true);
    assert.equal(received.rtmp_in!.violations, 0);
    const ratio = received.rtmp_in!.bitrate / sdBitrate;
    assert.ok(
      ratio > 0.85 && ratio < 1.15,
      `received ${received.rtmp_in!.bitrate} bit/s for a ${sdBitrate} bit/s rendition`,
    );

    const session = 'e2e-rec-0123456789abcd';
    const recorded = await rpc('StartCloudRecord', {
      session_id: session,
      channel: 0,
      quality: 'ld',
      max_bitrate: 0,
      seg_duration: 2,
      seg_max_size: 16 * 1024 * 1024,
      seg_max_count: 4,
      prerecord_seconds: 0,
      start_ts: 0,
      cbk_url: `http://127.0.0.1:${port}/record/${session}`,
    });
    assert.deepEqual(recorded.resp, {});
    const segments = await eventually(
      'uploaded segments',
      async () => {
        const d = (await (await fetch(deviceUrl)).json()) as ApiDevice;
        const ch = d.channels[0]!;
        return ch.record_session === session && (ch.record_in?.segments ?? 0) >= 2
          ? ch.record_in!
          : undefined;
      },
      40_000,
      250,
    );
    assert.equal(segments.fails, 0);
    assert.ok(segments.bytes > 0);
    // The progress line counts what was sent.
    await eventually(
      'the progress line',
      async () =>
        /streams live 1 \(started 1, failed 0\)/.test(fleet.output()) &&
        /segments uploaded [1-9]/.test(fleet.output()) &&
        /alarm pictures [1-9]/.test(fleet.output())
          ? true
          : undefined,
      15_000,
      250,
    );
    // The alarms (--alarm-rate) brought their pictures to the platform.
    const all = (await (await fetch(`${api}/devices`)).json()) as {
      devices: Array<{ alarm_pictures: number }>;
    };
    assert.ok(all.devices.reduce((n, d) => n + d.alarm_pictures, 0) > 0, 'alarm pictures received');

    fleet.child.kill('SIGINT');
    assert.equal(await fleet.exited, 0);
    ivc.child.kill('SIGINT');
    await ivc.exited;
    assert.ok(!(ivc.output() + fleet.output()).includes(PASSWORD));
  });

  test('ivtfarm device --no-media says it cannot publish or record (error 101) instead of showing a live channel', async () => {
    const { ivc, port, api } = await startPlatform();
    const fleet = startFleet(port, 2, 'sig-{index}', '--no-media');
    await devicesOnline(api, 2);
    const rpc = async (req: string, params: unknown) => (await adminRpc(api, 'sig-1', req, params)).body;
    const publish = await rpc('RTMPPublish', {
      channel: 0,
      quality: 'sd',
      url: 'rtmp://127.0.0.1:1/live/x',
      stream_id: 'x',
      max_bitrate: 0,
    });
    assert.equal(publish.err?.code, 101);
    const record = await rpc('StartCloudRecord', {
      session_id: 'sig-rec-0123456789abcd',
      channel: 0,
      quality: 'ld',
      max_bitrate: 0,
      seg_duration: 2,
      seg_max_size: 1024 * 1024,
      seg_max_count: 4,
      prerecord_seconds: 0,
      start_ts: 0,
      cbk_url: `http://127.0.0.1:${port}/record/sig-rec-0123456789abcd`,
    });
    assert.equal(record.err?.code, 101);
    const standing = await rpc('SetRTMPPublishConfig', [
      { enable: true, channel: 0, quality: 'sd', url: 'rtmp://127.0.0.1:1/live/y' },
    ]);
    assert.equal(standing.err?.code, 101);
    // The next keepalive still shows the channel merely online.
    await new Promise((r) => setTimeout(r, 10_500));
    const d = (await (await fetch(`${api}/devices/sig-1`)).json()) as ApiDevice;
    assert.equal(d.channels[0]!.state, 1);
    assert.match(fleet.output(), /no media \(--no-media/);
    assert.doesNotMatch(fleet.output(), /streams live/);
    fleet.child.kill('SIGINT');
    assert.equal(await fleet.exited, 0);
    ivc.child.kill('SIGINT');
    await ivc.exited;
  });
});
