// `ivtfarm ivc --processes 2 --rtmp-port 0`: the RTMP ingest runs in the front, the devices in the
// children. A publish ordered through the front's admin API reaches an `ivtfarm device` fleet, and
// the device's record on the front — `GET /api/devices/X` and the `/api/devices` pages — shows
// what the front's ingest received (`rtmp_in`) as a single-process platform shows it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../support/eventually.js';
import { startCli } from './cli-process.js';
import { startIvcProcesses } from './ivc-processes-support.js';

const PASSWORD = 'ingest-pw-3';

interface Channel {
  channel: number;
  stream_id: string;
  rtmp_in?: { bytes: number; bitrate: number; live: boolean; violations: number };
}
interface Device {
  login_code: string;
  online: boolean;
  process: number;
  channels: Channel[];
}

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  return (await res.json()) as T;
}

test('ivc --processes 2 --rtmp-port 0: a device record on the front has rtmp_in from the front ingest', async () => {
  const started = await startIvcProcesses(2, ['--rtmp-port', '0'], { IVC_PASSWORD: PASSWORD });
  const fleet = startCli(
    ['device', '--url', started.urls.join(','), '-n', '4', '--login-code', 'ri-{index}'],
    {
      IVT_PASSWORD: PASSWORD,
    },
  );
  await eventually(
    'the devices online',
    async () => (await getJson<{ online: number }>(`${started.admin}/api/stats`)).online === 4,
    20_000,
    100,
  );

  const code = 'ri-2';
  const streamId = 'front ingest/流';
  const order = await getJson<{ resp?: unknown }>(`${started.admin}/api/devices/${code}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      req: 'RTMPPublish',
      params: {
        channel: 0,
        quality: 'ld',
        url: `${started.rtmp!}/${encodeURIComponent(streamId)}`,
        stream_id: streamId,
        max_bitrate: 0,
      },
    }),
  });
  assert.deepEqual(order.resp, {});

  // The next keepalive (every 10 s) names the stream on the channel; the front adds what it received.
  const channel = await eventually(
    'rtmp_in on the device record at the front (a keepalive every 10 s)',
    async () => {
      const d = await getJson<Device>(`${started.admin}/api/devices/${encodeURIComponent(code)}`);
      const ch = d.channels[0]!;
      return ch.stream_id === streamId && (ch.rtmp_in?.bytes ?? 0) > 0 ? ch : null;
    },
    30_000,
    200,
  );
  // The shape of a single-process platform's record (admin-api.ts deviceView).
  assert.deepEqual(Object.keys(channel), [
    'channel',
    'state',
    'stream_id',
    'record_session',
    'alarm',
    'rtmp_in',
  ]);
  assert.equal(channel.rtmp_in!.live, true);
  assert.equal(channel.rtmp_in!.violations, 0);
  assert.ok(channel.rtmp_in!.bitrate > 0, JSON.stringify(channel.rtmp_in));

  // The pages carry it too; a channel nothing was received for has none.
  const page = await getJson<{ devices: Device[] }>(`${started.admin}/api/devices?limit=10`);
  assert.equal(page.devices.length, 4);
  for (const d of page.devices) {
    const ch = d.channels[0]!;
    if (d.login_code === code) assert.ok(ch.rtmp_in && ch.rtmp_in.bytes > 0, JSON.stringify(ch));
    else assert.equal(ch.rtmp_in, undefined, `${d.login_code}: ${JSON.stringify(ch)}`);
  }

  fleet.child.kill('SIGINT');
  await fleet.exited;
  started.ivc.child.kill('SIGINT');
  assert.equal(await started.ivc.exited, 0);
});
