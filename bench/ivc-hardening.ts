// What hostile clients can make `ivtfarm ivc` keep. The platform runs as `ivtfarm ivc` in a child
// process (its defaults: 10 s handshake timeout, 10 s keepalive period, 3 missed periods); this
// process plays the clients, all on loopback, and reads the child's RSS from /proc:
//   1. N clients that each log in, send a Keepalive with 125k channels (3.5 MB) and leave;
//   2. M unauthenticated POST /record/<15 KB id> with a 60 KB last_file_name;
//   3. M TCP connections that never send a byte (spread over 127.0.0.2-9 as sources);
//   4. N logged-in sockets that never send a Keepalive.
// Bounded: every phase has a fixed count, and the whole run a deadline.
// Run: npx tsc -p . && node dist/bench/ivc-hardening.js [clients=1000] [connections=5000]

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import {
  closed,
  exchange,
  idleSocket,
  keepaliveText,
  loginUrl,
  openSocket,
  rawRequest,
} from '../support/ivc-client.js';

const clients = Number(process.argv[2] ?? 1000);
const connections = Number(process.argv[3] ?? 5000);
const DEADLINE_MS = 15 * 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return line ? Number(line[1]) : Number.NaN;
}

/** Starts `ivtfarm ivc --port 0` and resolves with the child and its device/HTTP URLs. */
function startPlatform(): Promise<{ child: ChildProcess; wsUrl: string; httpUrl: string; port: number }> {
  const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
  // IVC_NODE_ARGS: V8 flags for the platform process, e.g. "--optimize-for-size".
  const nodeArgs = process.env.IVC_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, cli, 'ivc', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /devices connect to: (ws:\/\/127\.0\.0\.1:(\d+)\/ivc)/.exec(out);
      if (m) resolve({ child, wsUrl: m[1]!, httpUrl: `http://127.0.0.1:${m[2]}`, port: Number(m[2]) });
    });
    child.once('exit', (code) => reject(new Error(`ivtfarm ivc exited with ${code}: ${out}`)));
  });
}

/** Runs `task(i)` for i in [0, count) with at most `width` at a time. */
async function pool(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function stats(httpUrl: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${httpUrl}/api/stats`)).json()) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error('bench deadline passed');
    process.exit(1);
  }, DEADLINE_MS);
  const platform = await startPlatform();
  const pid = platform.child.pid!;
  await sleep(1000);
  const startKb = rssKb(pid);
  console.log(`ivtfarm ivc pid ${pid}: RSS at start ${mb(startKb)}`);

  // 1. Big Keepalives that leave.
  let t = Date.now();
  const huge = keepaliveText(1, 125_000);
  let answered = 0;
  let refused = 0; // over maxPayload: closed with 1009 before being read
  await pool(clients, 8, async (i) => {
    const ws = await openSocket(loginUrl(platform.wsUrl, `big-${i}`));
    if (!(ws instanceof WebSocket)) throw new Error(`login refused: ${ws.status}`);
    const end = closed(ws);
    const answer = await exchange(ws, huge).catch(() => null);
    if (answer?.includes('"resp"')) answered++;
    else if ((await end).code === 1009) refused++;
    ws.close();
  });
  await sleep(500);
  console.log(
    `1. ${clients} clients × ${(huge.length / 2 ** 20).toFixed(1)} MB Keepalive (125k channels), then gone: ` +
      `${answered} answered, ${refused} refused unread (1009) in ${((Date.now() - t) / 1000).toFixed(1)} s; RSS ${mb(rssKb(pid))}`,
  );

  // 2. Recording callbacks for sessions nobody ordered.
  t = Date.now();
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  const statuses = new Map<number, number>();
  const name = 'n'.repeat(60_000);
  await pool(connections, 50, async (i) => {
    const res = await rawRequest(`${platform.httpUrl}/record/${i}-${'x'.repeat(15_000)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `op=create&size=188&last_file_name=${name}`,
      agent,
    });
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  });
  agent.destroy();
  console.log(
    `2. ${connections} POST /record/<15 KB id> with a 60 KB last_file_name: statuses ${JSON.stringify(Object.fromEntries(statuses))} ` +
      `in ${((Date.now() - t) / 1000).toFixed(1)} s; RSS ${mb(rssKb(pid))}; ` +
      `connection_timeouts so far ${(await stats(platform.httpUrl)).connection_timeouts}`,
  );

  // 3. Connections that never send a byte.
  t = Date.now();
  const idle: Socket[] = [];
  for (let i = 0; i < connections; i++) idle.push(await idleSocket(platform.port, `127.0.0.${2 + (i % 8)}`));
  const openedIn = Date.now() - t;
  const peakKb = rssKb(pid);
  const idleClosed = Promise.all(
    idle.map((s) => new Promise<number>((r) => s.once('close', () => r(Date.now())))),
  );

  // 4. Logged-in devices that never send a Keepalive (opened while the idle sockets wait).
  const silentStart = Date.now();
  const silent: WebSocket[] = [];
  await pool(clients, 50, async (i) => {
    const ws = await openSocket(loginUrl(platform.wsUrl, `mute-${i}`), {
      localAddress: `127.0.0.${2 + (i % 8)}`,
    });
    if (!(ws instanceof WebSocket)) throw new Error(`login refused: ${ws.status}`);
    silent.push(ws);
  });
  const silentLoggedIn = Date.now();
  const closedAt = await idleClosed;
  console.log(
    `3. ${connections} idle TCP connections opened in ${(openedIn / 1000).toFixed(1)} s (RSS ${mb(peakKb)} while held): ` +
      `all closed by the platform ${((Math.max(...closedAt) - t) / 1000).toFixed(1)} s after the first connected`,
  );
  let online = Number((await stats(platform.httpUrl)).online);
  console.log(
    `4. ${silent.length} silent logged-in sockets (logins took ${((silentLoggedIn - silentStart) / 1000).toFixed(1)} s): ${online} online`,
  );
  while (online > 0 && Date.now() - silentLoggedIn < 60_000) {
    await sleep(250);
    online = Number((await stats(platform.httpUrl)).online);
  }
  const silentGone = Date.now();
  await Promise.all(
    silent.map((ws) => (ws.readyState === ws.CLOSED ? null : new Promise((r) => ws.once('close', r)))),
  );
  console.log(
    `   all offline ${((silentGone - silentLoggedIn) / 1000).toFixed(1)} s after the last login ` +
      `(${((silentGone - silentStart) / 1000).toFixed(1)} s after the first)`,
  );

  // V8 gives memory back once the process is idle (its memory reducer): watch it settle.
  const settle: string[] = [];
  for (let i = 0; i < 6; i++) {
    await sleep(5000);
    settle.push(mb(rssKb(pid)));
  }
  console.log(`RSS while idle, every 5 s: ${settle.join(', ')}`);
  const endKb = rssKb(pid);
  const s = await stats(platform.httpUrl);
  console.log(
    `platform stats: devices_known ${s.devices_known}, devices_evicted ${s.devices_evicted}, connection_timeouts ${s.connection_timeouts}, ` +
      `record ${JSON.stringify(s.record)}, violations ${JSON.stringify(s.violations)}, disconnects ${JSON.stringify(s.disconnects)}`,
  );
  const memory = s.process as { rss_mb: number; heap_used_mb: number };
  console.log(`platform heap in use at the end: ${memory.heap_used_mb} MB`);
  console.log(
    `RSS at start ${mb(startKb)}, at the end ${mb(endKb)}: ${endKb - startKb >= 0 ? '+' : ''}${mb(endKb - startKb)}`,
  );
  platform.child.kill('SIGTERM');
  clearTimeout(deadline);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
