import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { Scheduler } from '../src/core/scheduler.js';
import type { DeviceConfig } from '../src/device/config.js';
import { SimulatedDevice } from '../src/device/device.js';
import { DeviceMetrics } from '../src/farm/device-metrics.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { eventually } from '../support/eventually.js';
import { startCli } from './cli-process.js';
import { defaultAnswer, type Session, TestPlatform } from './device-platform.js';

// A device facing a hostile platform: huge messages, endless or dripping firmware downloads.
// Every outcome must be bounded and counted.

const MiB = 1024 * 1024;
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Peak resident memory of a process (VmHWM), bytes. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmHWM readable');
  return Number(m[1]) * 1024;
}

function spawnFleet(url: string) {
  return startCli(['device', '--url', url, '--no-media'], { IVT_PASSWORD: 'pw' });
}

describe('incoming message size', () => {
  test('a 50 MB message closes the connection (message_too_large), the device logs in again and its process stays under 200 MB RSS', async (t) => {
    const platform = await new TestPlatform().listen();
    cleanups.push(() => platform.close());
    const fleet = spawnFleet(platform.url);
    const huge = `{"event":"SyncTime","params":{"pad":"${'x'.repeat(50 * 1000 * 1000)}"}}`;
    // Five of them, one per connection, as the attack did.
    for (let i = 0; i < 5; i++) {
      const session = await platform.nextSession(undefined, 30_000);
      session.socket.send(huge);
      const closed = await Promise.race([
        session.closed,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the device kept the connection open')), 20_000),
        ),
      ]);
      assert.notEqual(closed.reason, 'local', 'the device closed, not the platform');
    }
    await platform.nextSession(undefined, 30_000);
    await eventually(
      'the explanation',
      () => /disconnected \(message_too_large/.test(fleet.output()),
      10_000,
    );
    const peak = peakRss(fleet.child.pid!);
    t.diagnostic(`peak RSS of the device process: ${Math.round(peak / MiB)} MB`);
    assert.ok(peak < 200 * MiB, `peak RSS ${Math.round(peak / MiB)} MB`);
    // The progress line counts the disconnects.
    await eventually('disconnects counted', () => /disconnects [5-9]/.test(fleet.output()), 15_000);
    fleet.child.kill('SIGINT');
  });

  test('the limit is configurable: a 64 KiB message passes the default, not a 16 KiB limit', async () => {
    const platform = await new TestPlatform().listen();
    cleanups.push(() => platform.close());
    const scheduler = new Scheduler();
    const registry = new MetricsRegistry({ source: 'test' });
    const make = (limits: DeviceConfig['limits']) =>
      new SimulatedDevice(
        { url: platform.url, loginCode: `lim-${limits ? 'small' : 'default'}`, password: 'pw', limits },
        { scheduler, observer: new DeviceMetrics(registry, 'test') },
      );
    const pad = 'y'.repeat(64 * 1024);
    for (const d of [make(undefined), make({ maxMessageBytes: 16 * 1024 })]) {
      cleanups.push(() => d.stop());
      d.start();
      const session = await platform.nextSession(d.loginCode);
      await session.waitFor('Keepalive');
      session.event('SyncTime', { datetime: '2026-01-01T00:00:00', offset: 1, pad });
    }
    await eventually(
      "registryCounter(registry, 'disconnects{reason:message_too_large') === 1",
      () => registryCounter(registry, 'disconnects{reason:message_too_large') === 1,
      5000,
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      registryCounter(registry, 'disconnects{reason:message_too_large'),
      1,
      'only the small limit closed',
    );
  });
});

const counted = new Map<MetricsRegistry, Record<string, number>>();
/**
 * The sum of the counters whose series key starts with `prefix` so far (drains the registry's
 * deltas into running sums; a prefix also counts series with more labels).
 */
function registryCounter(registry: MetricsRegistry, prefix: string): number {
  const sums = counted.get(registry) ?? {};
  counted.set(registry, sums);
  for (const [k, v] of Object.entries(registry.takeDelta().counters)) sums[k] = (sums[k] ?? 0) + v;
  let total = 0;
  for (const [k, v] of Object.entries(sums)) if (k.startsWith(prefix)) total += v;
  return total;
}

describe('firmware download caps', () => {
  /** An HTTP server whose /endless never ends and whose /drip sends a byte every 100 ms. */
  async function hostileFirmwareServer(): Promise<{ url: string; sent: () => number }> {
    const block = Buffer.alloc(256 * 1024, 0x5a);
    let sent = 0;
    const server: Server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      if (req.url === '/drip') {
        const t = setInterval(() => res.write('z'), 100);
        res.on('close', () => clearInterval(t));
        return;
      }
      let open = true;
      res.on('close', () => {
        open = false;
      });
      const pump = () => {
        while (open) {
          sent += block.length;
          if (!res.write(block)) {
            res.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sent: () => sent };
  }

  async function upgradeFrom(fwUrl: string, config: Partial<DeviceConfig> = {}) {
    const platform = await new TestPlatform().listen();
    cleanups.push(() => platform.close());
    platform.answer = (method, params, session: Session) =>
      method === 'GetFirmware'
        ? { firmware_model: 'fw-evil', url: fwUrl }
        : defaultAnswer(method, params, session);
    const registry = new MetricsRegistry({ source: 'test' });
    const d = new SimulatedDevice(
      { url: platform.url, loginCode: 'fw-victim', password: 'pw', ...config },
      { scheduler: new Scheduler(), observer: new DeviceMetrics(registry, 'test') },
    );
    cleanups.push(() => d.stop());
    d.start();
    const session = await platform.nextSession();
    await session.waitFor('Keepalive');
    session.event('UpgradeFirmware');
    return { d, registry };
  }

  test('an endless firmware URL stops at the default 256 MiB cap: firmware_checks{result:too_large}, no upgrade', async (t) => {
    const server = await hostileFirmwareServer();
    const { d, registry } = await upgradeFrom(`${server.url}/endless`);
    await eventually(
      'the cap',
      () => registryCounter(registry, 'firmware_checks{result:too_large}') === 1,
      60_000,
    );
    assert.equal(d.firmwareModel, 'sim-1.0.0', 'not upgraded');
    assert.equal(d.state, 'online', 'back to online after the abandoned download');
    const sentAtCap = server.sent();
    t.diagnostic(`served ${Math.round(sentAtCap / MiB)} MiB before the device stopped reading`);
    assert.ok(sentAtCap >= 256 * MiB, `served ${sentAtCap} bytes`);
    // The server has stopped being read: nothing more goes out.
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(server.sent() - sentAtCap < 32 * MiB, 'the download was abandoned');
  });

  test('a firmware URL that drips stops at the time cap: firmware_checks{result:too_slow}', async () => {
    const server = await hostileFirmwareServer();
    const started = Date.now();
    const { d, registry } = await upgradeFrom(`${server.url}/drip`, { timings: { firmwareTimeoutMs: 1500 } });
    await eventually(
      'the time cap',
      () => registryCounter(registry, 'firmware_checks{result:too_slow}') === 1,
      20_000,
    );
    assert.ok(Date.now() - started >= 1400);
    assert.equal(d.firmwareModel, 'sim-1.0.0');
  });

  test('a declared Content-Length over the cap is refused before reading', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(64 * MiB) });
      res.write(Buffer.alloc(1024));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    });
    const { registry } = await upgradeFrom(`http://127.0.0.1:${(server.address() as AddressInfo).port}/big`, {
      limits: { firmwareMaxBytes: 8 * MiB },
    });
    await eventually(
      "registryCounter(registry, 'firmware_checks{result:too_large}') === 1",
      () => registryCounter(registry, 'firmware_checks{result:too_large}') === 1,
      10_000,
    );
  });
});
