// `ivtfarm ivc --processes 3` as a user runs it, with a farm run whose target lists the three
// device URLs: the devices spread over the processes by the documented rule, `/api/stats` of the
// front adds up all three, an RTMP publish ordered through the front's admin API reaches a device
// in whichever process holds it and arrives at the front's ingest, a killed process comes back on
// its port; and a target list with a dead URL is stopped by the preflight, naming that URL.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import type { RunSummary } from '../src/core/summary-types.js';
import { targetUrlFor } from '../src/core/target-choice.js';
import { eventually } from '../support/eventually.js';
import { freePort, runDir } from './agents-support.js';
import { startCli } from './cli-process.js';
import { anyMix, runCli, scenarioFile } from './farm-support.js';
import { startIvcProcesses } from './ivc-processes-support.js';

const PASSWORD = 'gateway-pw-81';
const DEVICES = 30;

function scenario(urls: readonly string[], seconds: number): string {
  return `
name: gateways
seed: 5
target: [${urls.join(', ')}]
devices:
  count: ${DEVICES}
  login_code: "gw-{index:03}"
  password: { env: GW_PASSWORD }
  mix: [{ weight: 1, kind: nvr, channels: 2, profile: spec }]
  startup_jitter: 1s
stages:
  - { duration: 2s, target: ${DEVICES} }
  - { duration: ${seconds}s, target: ${DEVICES} }
`;
}

async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}

interface Stats {
  online: number;
  logins: { ok: number };
  processes: Array<{
    index: number;
    pid: number;
    url: string;
    online: number;
    answered: boolean;
    restarts: number;
  }>;
}

test('ivc --processes 3: devices spread over the processes, one admin API and /api/stats for all, commands reach any process', async () => {
  const started = await startIvcProcesses(3, ['--rtmp-port', '0'], { IVC_PASSWORD: PASSWORD });
  const ivc = started.ivc;
  assert.equal(started.urls.length, 3);
  assert.equal(new Set(started.urls).size, 3);
  const gateways = await getJson<{ device_urls: string[] }>(`${started.admin}/api/gateways`);
  assert.deepEqual(gateways.body.device_urls, started.urls);

  const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-gateways-'));
  const run = runCli(['run', scenarioFile(dir, scenario(started.urls, 20)), '-q', '-o', join(dir, 'out')], {
    env: { GW_PASSWORD: PASSWORD },
    timeoutMs: 120_000,
  });

  // Every device online, counted once by the front over the three processes.
  const stats = await eventually(
    'all devices online in /api/stats',
    async () => {
      const s = (await getJson<Stats>(`${started.admin}/api/stats`)).body;
      return s.online === DEVICES ? s : null;
    },
    60_000,
    200,
  );
  assert.equal(stats.processes.length, 3);
  assert.equal(
    stats.processes.reduce((n, p) => n + p.online, 0),
    DEVICES,
  );
  for (const p of stats.processes)
    assert.ok(p.online > 0, `process ${p.index} holds devices: ${JSON.stringify(stats.processes)}`);

  // Each device is where the documented rule puts it, and the front's pages list all of them once.
  const seen: string[] = [];
  let after = '';
  for (;;) {
    const page = await getJson<{
      devices: Array<{ login_code: string }>;
      next: string | null;
      online: number;
    }>(`${started.admin}/api/devices?limit=7${after ? `&after=${after}` : ''}`);
    assert.equal(page.status, 200);
    assert.equal(page.body.online, DEVICES);
    seen.push(...page.body.devices.map((d) => d.login_code));
    if (page.body.next === null) break;
    after = page.body.next;
  }
  assert.equal(seen.length, DEVICES);
  assert.equal(new Set(seen).size, DEVICES);
  const codes = Array.from({ length: DEVICES }, (_, i) => `gw-${String(i).padStart(3, '0')}`);
  for (const code of codes) {
    const d = await getJson<{ online: boolean; process: number }>(`${started.admin}/api/devices/${code}`);
    assert.equal(d.status, 200);
    assert.equal(started.urls[d.body.process], targetUrlFor(code, started.urls), `${code} on its URL`);
  }

  // A publish ordered through the front reaches a device of the last process; the stream arrives.
  const code = codes.find((c) => targetUrlFor(c, started.urls) === started.urls[2])!;
  const order = await getJson<{ resp?: unknown; err?: unknown }>(`${started.admin}/api/devices/${code}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      req: 'RTMPPublish',
      params: {
        channel: 1,
        quality: 'ld',
        url: `${started.rtmp}/via-front`,
        stream_id: 'via-front',
        max_bitrate: 0,
      },
    }),
  });
  assert.equal(order.status, 200, JSON.stringify(order.body));
  assert.ok('resp' in order.body, JSON.stringify(order.body));
  await eventually(
    'the ordered stream live at the front ingest',
    async () => {
      const streams = await getJson<{ streams: Array<{ name: string; bytes: number }> }>(
        `${started.admin}/api/streams`,
      );
      return streams.body.streams.find((s) => s.name === 'via-front' && s.bytes > 10_000);
    },
    30_000,
    200,
  );
  const stats2 = (await getJson<Stats & { rpc: { calls: number } }>(`${started.admin}/api/stats`)).body;
  assert.ok(stats2.rpc.calls >= 1);
  // The monitor through the front: bridged to the device's process, both ways.
  const monitor = new WebSocket(`${started.admin.replace('http:', 'ws:')}/monitor?login_code=${code}`);
  const messages: Array<{ type: string; dir?: string; text?: string; device?: { online: boolean } | null }> =
    [];
  monitor.on('message', (data) => messages.push(JSON.parse(data.toString())));
  const hello = await eventually('the monitor hello', () => messages.find((m) => m.type === 'hello'), 30_000);
  assert.equal(hello.device?.online, true);
  monitor.send(
    JSON.stringify({ type: 'send', text: JSON.stringify({ req: 'GetNetConfig', params: { channel: 0 } }) }),
  );
  await eventually(
    'the device answer in the monitor',
    () => messages.find((m) => m.type === 'packet' && m.dir === 'in' && /"resp"/.test(m.text ?? '')),
    30_000,
  );
  monitor.close();
  // A command for a device no process holds is a plain 404.
  const unknown = await fetch(`${started.admin}/api/devices/nobody/kick`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(unknown.status, 404);

  const result = await run;
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(
    readFileSync(join(runDir(join(dir, 'out')), 'summary.json'), 'utf8'),
  ) as RunSummary;
  assert.deepEqual(summary.target.urls, started.urls);
  const html = readFileSync(join(runDir(join(dir, 'out')), 'report.html'), 'utf8');
  for (const url of started.urls) assert.ok(html.includes(url), `report.html names ${url}`);
  assert.equal(anyMix(summary.metrics.counters, 'logins{result:ok,reason:ok}'), DEVICES);

  // A process that dies comes back on its port: the front shows it restarted.
  const victim = stats.processes[1]!;
  process.kill(victim.pid, 'SIGKILL');
  const back = await eventually(
    'the killed process restarted',
    async () => {
      const s = (await getJson<Stats>(`${started.admin}/api/stats`)).body;
      const p = s.processes[1]!;
      return p.restarts === 1 && p.answered && p.pid !== victim.pid ? p : null;
    },
    60_000,
    200,
  );
  assert.equal(back.url, victim.url);
  ivc.child.kill('SIGINT');
  assert.equal(await ivc.exited, 0);
});

test('a target list with one dead URL is stopped by the preflight, which names it', async () => {
  const ivc = startCli(['ivc', '--port', '0'], { IVC_PASSWORD: PASSWORD });
  const url = await eventually(
    'the platform listening',
    () => /devices connect to: (\S+)/.exec(ivc.output())?.[1],
    30_000,
  );
  const dead = `ws://127.0.0.1:${await freePort()}/ivc`;
  const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-gateways-dead-'));
  const result = await runCli(
    ['run', scenarioFile(dir, scenario([url, dead], 3)), '-q', '-o', join(dir, 'out')],
    {
      env: { GW_PASSWORD: PASSWORD },
      timeoutMs: 60_000,
    },
  );
  assert.equal(result.code, 3, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`cannot connect to ${dead.replace(/[.]/g, '\\.')}.*connection refused`),
  );
  ivc.child.kill('SIGINT');
});

test('run --platform-processes 2: the embedded platform in two processes, its stats of the whole in the summary', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-embedded-processes-'));
  const cameras = (extra: string) => `
name: embedded-processes
target: embedded
devices: { count: 20, login_code: "ep-{index:03}", mix: [{ weight: 1, kind: camera }], startup_jitter: 1s }
stages: [{ duration: 2s, target: 20 }, { duration: 3s, target: 20 }]
${extra}`;
  const result = await runCli(
    ['run', scenarioFile(dir, cameras('')), '--platform-processes', '2', '-o', join(dir, 'out')],
    { timeoutMs: 120_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /embedded reference IVC in 2 processes, admin API on http:\/\/127\.0\.0\.1:\d+ \(devices: ws:\/\/\S+ ws:\/\/\S+\)/,
  );
  const summary = JSON.parse(
    readFileSync(join(runDir(join(dir, 'out')), 'summary.json'), 'utf8'),
  ) as RunSummary;
  const stats = summary.platform?.stats as {
    logins: { ok: number };
    processes: Array<{ answered: boolean }>;
  };
  assert.equal(stats.logins.ok, 20);
  assert.equal(stats.processes.length, 2);
  assert.ok(stats.processes.every((p) => p.answered));

  // Orders are played by an in-process platform: asking for processes with them is a usage error.
  const refused = await runCli(
    [
      'run',
      scenarioFile(dir, cameras('platform: { events: [{ at: 1s, event: SyncTime }] }')),
      '--platform-processes',
      '2',
    ],
    { timeoutMs: 60_000 },
  );
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--platform-processes 2: the scenario's platform orders/);
});

test('ivc --processes: impossible counts and port ranges are usage errors, nothing started', async () => {
  for (const [args, message] of [
    [['--processes', '0'], /--processes must be at least 1/],
    [['--processes', '65'], /processes must be an integer from 1 to 64/],
    [['--processes', '10', '--port', '65530'], /ports 65531–65540 do not all exist/],
  ] as const) {
    const result = await runCli(['ivc', ...args], { timeoutMs: 30_000 });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});
