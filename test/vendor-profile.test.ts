import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { Scheduler } from '../src/core/scheduler.js';
import type { DeviceConfig } from '../src/device/config.js';
import { SimulatedDevice } from '../src/device/device.js';
import type { MediaSink } from '../src/device/media-sink.js';
import { profiles } from '../src/device/profile.js';
import type { DeviceRecord } from '../src/ivc/device-record.js';
import { type IvcOptions, type RunningIvc, startIvc } from '../src/ivc/index.js';
import { eventually } from '../support/eventually.js';
import { loginUrl } from '../support/ivc-client.js';
import { realMediaSink } from './vendor-support.js';

// The `vendor` profile against the reference platform (IVR-RPC.md "Observed on the wire"): the
// real keepalive rhythm, the vendor's answers and close, and the platform counting what real
// firmware does as vendor_quirk — a violation only when it runs strict.

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function platform(options: IvcOptions = {}): Promise<RunningIvc> {
  const ivc = await startIvc(options);
  cleanups.push(() => ivc.close());
  return ivc;
}

function device(
  ivc: RunningIvc,
  scheduler: Scheduler,
  loginCode: string,
  config: Partial<DeviceConfig> = {},
  media?: MediaSink,
): SimulatedDevice {
  const d = new SimulatedDevice(
    { url: ivc.url, loginCode, password: 'pw', profile: 'vendor', ...config },
    { scheduler, ...(media ? { media } : {}) },
  );
  cleanups.push(() => d.stop());
  return d;
}

type DeviceView = {
  login_code: string;
  logins: number;
  keepalives: number;
  keepalive_interval_mean_ms: number | null;
  violations: Record<string, number>;
  vendor_quirks: Record<string, number>;
  record_segments: number;
  record_bytes: number;
  alarm_pictures: number;
};

async function devicesOf(ivc: RunningIvc): Promise<DeviceView[]> {
  const res = await fetch(`${ivc.httpUrl}/api/devices?limit=1000`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { devices: DeviceView[] }).devices;
}

async function deviceOf(ivc: RunningIvc, loginCode: string): Promise<DeviceView> {
  const res = await fetch(`${ivc.httpUrl}/api/devices/${loginCode}`);
  assert.equal(res.status, 200);
  return (await res.json()) as DeviceView;
}

async function statsOf(ivc: RunningIvc): Promise<Record<string, Record<string, number>>> {
  return (await (await fetch(`${ivc.httpUrl}/api/stats`)).json()) as Record<string, Record<string, number>>;
}

/**
 * Three vendor devices with the profile's own keepalive timing: one regular interval each, then
 * a kick (they log in again: a second login pair), then a stop (the malformed close frame).
 */
async function vendorFleet(
  strict: boolean,
): Promise<{ views: DeviceView[]; stats: Record<string, Record<string, number>> }> {
  const ivc = await platform({ strict });
  const scheduler = new Scheduler();
  // Only the reconnect wait is shortened; keepalive timings are the profile's.
  const timings = { quickRetryMinMs: 100, quickRetryMaxMs: 200 };
  const fleet = ['a', 'b', 'c'].map((x) =>
    device(ivc, scheduler, `vendor-${strict ? 'strict' : 'lax'}-${x}`, { timings }),
  );
  assert.equal(fleet[0]!.timings.keepaliveMs, 10_000, 'the vendor keeps alive every 10 s by default');
  for (const d of fleet) d.start();
  await eventually(
    'one regular keepalive interval of every device',
    () => [...ivc.platform.devices.values()].filter((r) => r.keepaliveIntervalCount >= 1).length === 3,
    20_000,
  );
  for (const d of fleet) assert.ok(ivc.commands.kick(d.loginCode));
  // Judged on the pairs seen, not on a keepalive count: a device that logged in first may have
  // sent a second regular Keepalive while a slower one reached its first.
  const pairsSeen = (r: DeviceRecord): number =>
    (r.vendorQuirks?.keepalive_login_pair ?? 0) + (r.violations?.keepalive_login_pair ?? 0);
  await eventually(
    'every device logged in again with its keepalive pair',
    () => [...ivc.platform.devices.values()].every((r) => r.logins === 2 && pairsSeen(r) === 2),
    10_000,
  );
  await Promise.all(fleet.map((d) => d.stop()));
  await eventually('every device offline', () => ivc.platform.sessions.size === 0, 5_000);
  return { views: await devicesOf(ivc), stats: await statsOf(ivc) };
}

describe('vendor fleet against the reference platform', { concurrency: 2 }, () => {
  test('keeps alive every 10 s, twice at each login, and shows only vendor_quirk counts', async () => {
    assert.equal(profiles.vendor.timings.keepaliveMs, 10_000);
    const { views, stats } = await vendorFleet(false);
    assert.equal(views.length, 3);
    for (const v of views) {
      assert.equal(v.logins, 2);
      assert.ok(v.keepalive_interval_mean_ms !== null);
      assert.ok(
        Math.abs(v.keepalive_interval_mean_ms - 10_000) < 500,
        `${v.login_code}: mean interval ${v.keepalive_interval_mean_ms} ms, expected 10 s (not 15)`,
      );
      assert.deepEqual(v.violations, {}, `${v.login_code} has no violation`);
      assert.equal(v.vendor_quirks.keepalive_login_pair, 2, 'two keepalives at each of the two logins');
      assert.equal(v.vendor_quirks.close_frame, 1, 'the malformed close frame of the stop');
    }
    assert.deepEqual(stats.violations, {});
    assert.equal(stats.vendor_quirks!.keepalive_login_pair, 6);
    assert.equal(
      stats.disconnects!.protocol_error,
      3,
      'the close frames are protocol faults, not network losses',
    );
    assert.equal(stats.disconnects!.network, undefined);
  });

  test('with --strict the same fleet shows the violations', async () => {
    const { views, stats } = await vendorFleet(true);
    for (const v of views) {
      assert.deepEqual(v.vendor_quirks, {});
      assert.equal(v.violations.keepalive_login_pair, 2);
      assert.equal(v.violations.close_frame, 1);
    }
    assert.equal(stats.violations!.keepalive_login_pair, 6);
    assert.deepEqual(stats.vendor_quirks, {});
  });
});

test('a close frame with an invalid code is counted as a protocol fault in /api/stats', async () => {
  const ivc = await platform();
  const ws = new WebSocket(loginUrl(ivc.url, 'raw-1'));
  const opened = new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const upgraded = new Promise<Socket>((resolve) => ws.once('upgrade', (res) => resolve(res.socket)));
  await opened;
  const raw = await upgraded;
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  ws.on('error', () => {});
  // FIN + close opcode, masked, 2-byte payload: close code 0 (invalid, RFC 6455 7.4.1).
  raw.write(Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0, 0]));
  assert.equal(await closed, 1002, 'the platform answers 1002 (protocol error)');
  await eventually('the session ended', () => ivc.platform.sessions.size === 0);
  const stats = await statsOf(ivc);
  assert.equal(stats.disconnects!.protocol_error, 1);
  assert.equal(stats.disconnects!.network, undefined, 'not counted as a network loss');
  assert.equal(stats.vendor_quirks!.close_frame, 1);
  const record = await deviceOf(ivc, 'raw-1');
  assert.equal(
    (record as unknown as { last_close: { reason: string; code: number } }).last_close.reason,
    'protocol_error',
  );
});

test('a StartCloudRecord sent through the admin API carries ivr:// and its uploads show on the device', async () => {
  const ivc = await platform();
  const scheduler = new Scheduler();
  const sink = realMediaSink(scheduler, cleanups);
  const d = device(ivc, scheduler, 'rec-vendor', {}, sink);
  d.start();
  await eventually('online', () => ivc.platform.sessions.has('rec-vendor'));
  const res = await fetch(`${ivc.httpUrl}/api/devices/rec-vendor/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ req: 'StartCloudRecord', params: { channel: 0, quality: 'ld', seg_duration: 1 } }),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(((await res.json()) as { resp: unknown }).resp, '', 'the vendor answers "resp": ""');
  const cbk = d.channels[0]!.recording?.params.cbk_url ?? '';
  assert.match(cbk, /^ivr:\/\/127\.0\.0\.1:\d+\/record\/\w+$/);
  await eventually(
    'two segments on the device record',
    () => (ivc.platform.devices.get('rec-vendor')?.recordSegments ?? 0) >= 2,
    15_000,
  );
  const view = await deviceOf(ivc, 'rec-vendor');
  assert.ok(view.record_segments >= 2);
  assert.ok(view.record_bytes > 0);
  assert.deepEqual(view.violations, {}, 'every segment valid and of the announced size');
  assert.equal(view.vendor_quirks.answer_empty_string, 1);
});

test('with recordUrlScheme http the platform hands out http:// cbk_urls', async () => {
  const ivc = await platform({ recordUrlScheme: 'http' });
  assert.match(ivc.commands.recordParams({ channel: 0 }).cbk_url, /^http:\/\/127\.0\.0\.1:\d+\/record\//);
  const strictDefault = await platform();
  assert.match(strictDefault.commands.recordParams({ channel: 0 }).cbk_url, /^ivr:\/\//);
});
