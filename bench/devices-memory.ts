// Memory and CPU per idle simulated device. The platform runs in a child process (a bare ws
// server answering every request with {}), so this process's RSS is the devices' alone.
// Bounded: N devices, logged in, held for a fixed time with keepalives flowing, then stopped.
// Run: npx tsc -p . && node --expose-gc dist/bench/devices-memory.js [devices=10000] [channels=4] [holdSeconds=25] [trim|no-trim]
// `trim` (default): once all are online, the heap trim a farm worker runs after a burst (src/core/heap-trim.ts).

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { WebSocketServer } from 'ws';
import { HeapTrimmer } from '../src/core/heap-trim.js';
import { deviceSeed, seededRandom } from '../src/core/random.js';
import { Scheduler } from '../src/core/scheduler.js';
import { SimulatedDevice } from '../src/device/device.js';
import type { DeviceIdentity, DeviceObserver } from '../src/device/observer.js';

if (process.argv[2] === 'serve') {
  // The platform: accept everyone, answer every request with an empty resp.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, backlog: 4096 });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const text = data.toString();
      const m = /"seq":(-?\d+)/.exec(text);
      if (m && text.includes('"req"')) ws.send(`{"seq":${m[1]},"resp":{}}`);
    });
  });
  // Never outlive the measuring process, even when it crashes.
  process.on('disconnect', () => process.exit(0));
  wss.on('listening', () => {
    const address = wss.address();
    if (address && typeof address === 'object') process.send?.(address.port);
  });
}

class Counts implements DeviceObserver {
  online = 0;
  loginFailures = 0;
  keepalives = 0;
  disconnects = new Map<string, number>();
  stateChanged(_d: DeviceIdentity, from: string, to: string): void {
    if (to === 'online') this.online++;
    if (from === 'online') this.online--;
  }
  loginSucceeded(): void {}
  loginFailed(): void {
    this.loginFailures++;
  }
  rpcCompleted(_d: DeviceIdentity, _dir: string, method: string): void {
    if (method === 'Keepalive') this.keepalives++;
  }
  disconnected(_d: DeviceIdentity, reason: string): void {
    this.disconnects.set(reason, (this.disconnects.get(reason) ?? 0) + 1);
  }
  eventReceived(): void {}
  alarmRaised(): void {}
}

/** Committed and used bytes of each V8 heap space, by name. */
function spaces(): Map<string, { committed: number; used: number }> {
  return new Map(
    getHeapSpaceStatistics().map((s) => [
      s.space_name,
      { committed: s.physical_space_size, used: s.space_used_size },
    ]),
  );
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 10_000);
  const channels = Number(process.argv[3] ?? 4);
  const holdSeconds = Number(process.argv[4] ?? 25);
  const trim = process.argv[5] !== 'no-trim';
  if (!(globalThis as { gc?: unknown }).gc) console.warn('run with --expose-gc for stable figures');

  const server = fork(fileURLToPath(import.meta.url), ['serve'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => server.once('message', (p) => resolve(p as number)));
  const url = `ws://127.0.0.1:${port}/ivc`;

  const scheduler = new Scheduler({ resolutionMs: 20 });
  const observer = new Counts();
  // Warm up the code paths with one device so the baseline includes compiled code, not devices.
  const warm = new SimulatedDevice({ url, loginCode: 'warm', password: 'x' }, { scheduler, observer });
  warm.start();
  while (observer.online < 1) await sleep(10);
  await warm.stop();
  await sleep(200);
  gc();
  const base = process.memoryUsage();
  const baseSpaces = spaces();

  // As a worker does: the heap measured before the devices, then, once the online count held still
  // for 3 s, one memory-reducing GC.
  let trimmed = trim ? 'not needed' : 'off';
  const trimmer = trim
    ? new HeapTrimmer({
        trimmed: (freed, pauseMs) => {
          trimmed = `${(freed / 2 ** 20).toFixed(0)} MB given back in ${pauseMs.toFixed(0)} ms`;
        },
      })
    : null;
  await trimmer?.tick(-1);
  const devices: SimulatedDevice[] = [];
  const timings = { keepaliveMs: 10_000, startDelayMaxMs: 0 };
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const d = new SimulatedDevice(
      {
        url,
        index: i,
        loginCode: `sim-${String(i).padStart(5, '0')}`,
        password: 'bench-password',
        kind: channels > 1 ? 'nvr' : 'camera',
        channels,
        localAddress: `127.0.0.${2 + (i % 8)}`,
        timings,
      },
      { scheduler, observer, random: seededRandom(deviceSeed(42, i)) },
    );
    devices.push(d);
    d.start();
    // Pace logins (500 per 50 ms) as a ramp would, instead of one SYN flood.
    if (i % 500 === 499) await sleep(50);
  }
  const deadline = performance.now() + 120_000;
  while (observer.online < count && performance.now() < deadline) await sleep(100);
  const loginSeconds = (performance.now() - started) / 1000;
  if (trimmer) {
    for (let i = 0; i < 4; i++) {
      await trimmer.tick(observer.online, observer.online < count);
      await sleep(1000);
    }
  }

  const cpu0 = process.cpuUsage();
  const ka0 = observer.keepalives;
  const t0 = performance.now();
  await sleep(holdSeconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const kas = observer.keepalives - ka0;
  const heldSeconds = (performance.now() - t0) / 1000;
  gc();
  await sleep(100);
  gc();
  const mem = process.memoryUsage();
  const heldSpaces = spaces();

  const kb = (bytes: number) => (bytes / 1024 / count).toFixed(2);
  console.log(
    `devices ${count} × ${channels} channels, online ${observer.online}, login failures ${observer.loginFailures}`,
  );
  console.log(`all logged in after ${loginSeconds.toFixed(1)} s; heap trim: ${trimmed}`);
  console.log(
    `RSS per device        ${kb(mem.rss - base.rss)} KB   (process RSS ${(mem.rss / 2 ** 20).toFixed(0)} MB)`,
  );
  console.log(
    `JS heap per device    ${kb(mem.heapUsed - base.heapUsed)} KB used, ${kb(mem.heapTotal - base.heapTotal)} KB committed`,
  );
  console.log(
    `external+buffers/dev  ${kb(mem.external + mem.arrayBuffers - base.external - base.arrayBuffers)} KB`,
  );
  const perSpace = [...heldSpaces].map(([name, held]) => {
    const was = baseSpaces.get(name) ?? { committed: 0, used: 0 };
    return `${name.replace(/_space$/, '')} ${kb(held.used - was.used)}/${kb(held.committed - was.committed)}`;
  });
  console.log(`heap spaces used/committed KB per device: ${perSpace.join(', ')}`);
  console.log(
    `keepalives ${kas} in ${heldSeconds.toFixed(1)} s (${(kas / heldSeconds).toFixed(0)}/s), CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms` +
      ` = ${((cpu.user + cpu.system) / Math.max(1, kas)).toFixed(1)} µs per keepalive round trip`,
  );
  console.log(
    `disconnects ${JSON.stringify(Object.fromEntries(observer.disconnects))}, scheduler timers ${scheduler.size}`,
  );

  await Promise.all(devices.map((d) => d.stop()));
  server.kill();
}

if (process.argv[2] !== 'serve') await main();
