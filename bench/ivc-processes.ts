// Devices held by the reference platform in several processes: `ivtfarm ivc --processes N` as a
// child, and `ivtfarm run` (its own agents past 15,000 devices) with a target listing the N device
// URLs. Prints, from the platform's side: devices online (its /api/stats), per process online,
// RSS and open files, RSS per device, CPU per 10k devices; from the farm's: keepalive lateness
// and round trip, logins. Bounded: at most 120,000 devices, every process on 127.0.0.0/8,
// stopped at the end.
//
//   npx tsc -p . && node dist/bench/ivc-processes.js [--processes 3] [--devices 9000] [--channels 4]
//                                                    [--ramp 30] [--hold 60]
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { killCliChildren, type Running, startCli } from '../support/cli-child.js';
import { eventually } from '../support/eventually.js';
import { int, procCpuSeconds, sleep } from './bench-args.js';

const opts = new Command()
  .option('--processes <n>', 'platform processes', int(2, 16), 3)
  .option('--devices <n>', 'NVRs', int(1, 120_000), 9_000)
  .option('--channels <n>', 'channels per NVR', int(1, 64), 4)
  .option('--ramp <s>', 'ramp to all devices, seconds', int(1, 600), 30)
  .option('--hold <s>', 'hold with all devices, seconds', int(10, 900), 60)
  .parse()
  .opts<{ processes: number; devices: number; channels: number; ramp: number; hold: number }>();

const CLK_TCK = 100;
const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-bench-ivc-processes-'));
process.on('exit', killCliChildren);
const env = { BENCH_PW: 'bench-password' };
const start = (args: string[]): Running => startCli(args, env);

interface Stats {
  online: number;
  keepalives: number;
  processes: Array<{ index: number; pid: number; online: number; rss_mb: number }>;
  front: { rss_mb: number };
}

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

const openFiles = async (pid: number) => (await readdir(`/proc/${pid}/fd`)).length;

/** `pid` and every process below it (the farm's local agents are its children). */
async function processTree(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++)
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  return tree;
}

async function treeCpuSeconds(pid: number): Promise<number> {
  const cpu = await Promise.all(
    (await processTree(pid)).map((p) => procCpuSeconds(p, CLK_TCK).catch(() => 0)),
  );
  return cpu.reduce((a, b) => a + b, 0);
}

const ivc = start([
  'ivc',
  '--processes',
  String(opts.processes),
  '--port',
  '0',
  '--password-env',
  'BENCH_PW',
]);
const { urls, admin } = await eventually(
  'the platform processes listening',
  () => {
    const out = ivc.output();
    const list = /devices connect to: (.+)/.exec(out)?.[1]?.trim().split(' ');
    const api = /admin API: +(http:\/\/[^/]+)/.exec(out)?.[1];
    return list && api ? { urls: list, admin: api } : null;
  },
  60_000,
  100,
);
const stats = async (): Promise<Stats> => (await (await fetch(`${admin}/api/stats`)).json()) as Stats;
const pids = (await stats()).processes.map((p) => p.pid);
const rssBefore = await Promise.all(pids.map(rssKb));

const scenario = join(dir, 'ivc-processes.yaml');
writeFileSync(
  scenario,
  `name: bench-ivc-processes
target: [${urls.join(', ')}]
devices:
  count: ${opts.devices}
  login_code: "ivp-{index:06}"
  password: { env: BENCH_PW }
  mix: [{ weight: 1, kind: nvr, channels: ${opts.channels} }]
  source_addresses: [127.0.7.0/26]
stages:
  - { duration: ${opts.ramp}s, target: ${opts.devices} }
  - { duration: ${opts.hold}s, target: ${opts.devices} }
`,
);
const started = Date.now();
const farm = start(['run', scenario, '--out', join(dir, 'reports'), '--quiet']);
const farmExit = new Promise<number | null>((resolve) => farm.child.on('exit', resolve));

// While the load holds: the platform's own view, every 2 s; CPU over the steady part of the hold;
// a progress line every 10 s (a 100k run takes 10 minutes, and where it stalls is the finding).
let maxOnline = 0;
let burstCpu: { farm: number; platform: number; logins: number } | null = null;
/** The first sample with a device online: the login burst's CPU is counted from here. */
let burstFrom: { farm: number; platform: number; online: number } | null = null;
let lastProgress: { at: number; platform: number[]; farm: number } | null = null;
let allOnlineAt: number | null = null;
let peak: Stats | null = null;
let peakFiles: number[] = [];
type CpuSample = { at: number; cpu: number[]; farm: number; keepalives: number };
let cpuFrom: CpuSample | null = null;
let cpuTo: CpuSample | null = null;
let farmDone = false;
void farmExit.then(() => {
  farmDone = true;
});
while (!farmDone) {
  await sleep(2000);
  let s: Stats;
  try {
    s = await stats();
  } catch {
    continue;
  }
  // A child too busy to answer the front leaves its figure out (the sum is then not a number).
  if (Number.isFinite(s.online)) maxOnline = Math.max(maxOnline, s.online);
  const farmCpu = farm.child.pid ? await treeCpuSeconds(farm.child.pid) : 0;
  const cpu = await Promise.all(pids.map((pid) => procCpuSeconds(pid, CLK_TCK).catch(() => 0)));
  if (!burstFrom && s.online > 0)
    burstFrom = { farm: farmCpu, platform: cpu.reduce((n, c) => n + c, 0), online: s.online };
  if (!lastProgress || Date.now() - lastProgress.at >= 10_000) {
    if (lastProgress) {
      const secs = (Date.now() - lastProgress.at) / 1000;
      const pct = (now: number, then: number) => `${Math.round(((now - then) / secs) * 100)}`;
      console.log(
        `${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s  online ${s.online} (${s.processes.map((p) => p.online).join('/')})  platform CPU % ${cpu.map((c, i) => pct(c, lastProgress!.platform[i]!)).join('/')}  farm CPU % ${pct(farmCpu, lastProgress.farm)}`,
      );
    }
    lastProgress = { at: Date.now(), platform: cpu, farm: farmCpu };
  }
  if (s.online >= opts.devices) {
    if (allOnlineAt === null) {
      allOnlineAt = Date.now();
      const platform = cpu.reduce((n, c) => n + c, 0);
      if (burstFrom)
        burstCpu = {
          farm: farmCpu - burstFrom.farm,
          platform: platform - burstFrom.platform,
          logins: s.online - burstFrom.online,
        };
    }
    const sample = { at: Date.now(), cpu, farm: farmCpu, keepalives: s.keepalives };
    // Steady: from 10 s after all came online (the login burst settled).
    if (Date.now() - allOnlineAt >= 10_000) {
      cpuFrom ??= sample;
      cpuTo = sample;
    }
    peak = s;
    peakFiles = await Promise.all(pids.map((pid) => openFiles(pid).catch(() => 0)));
  }
}
const code = await farmExit;
const rssHeld = peak ? await Promise.all(pids.map(rssKb)) : [];
ivc.child.kill('SIGINT');
if (code !== 0) console.error(`the farm exited ${code}:\n${farm.output().slice(-3000)}`);

const runDir = join(dir, 'reports', readdirSync(join(dir, 'reports'))[0]!);
const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
const h = summary.metrics.histograms;
const lateness = h.keepalive_lateness ?? { p50: Number.NaN, p99: Number.NaN, count: 0 };
const rtt = h.keepalive_rtt ?? { p50: Number.NaN, p99: Number.NaN };
const seconds = cpuFrom && cpuTo ? (cpuTo.at - cpuFrom.at) / 1000 : 0;
const cpuPct = pids.map((_, i) => (seconds > 0 ? ((cpuTo!.cpu[i]! - cpuFrom!.cpu[i]!) / seconds) * 100 : 0));
const cpuSum = cpuPct.reduce((a, b) => a + b, 0);
const rssGrowKb = rssHeld.reduce((n, r, i) => n + r - rssBefore[i]!, 0);

console.log(
  [
    `platform:            ivtfarm ivc --processes ${opts.processes}; ${opts.devices} NVR × ${opts.channels} channels from ivtfarm run (${summary.devices.workers} worker(s))`,
    `devices held:        ${maxOnline} online at most (platform /api/stats); all online ${allOnlineAt ? `${Math.round((allOnlineAt - started) / 1000)} s after the farm started` : 'never'}`,
    `per process online:  ${peak?.processes.map((p) => p.online).join(' / ') ?? '-'}`,
    `per process files:   ${peakFiles.join(' / ')} open (limit 20,000 each)`,
    `platform RSS:        ${rssBefore.map((r) => Math.round(r / 1024)).join(' / ')} MB before → ${rssHeld.map((r) => Math.round(r / 1024)).join(' / ')} MB held; front ${peak?.front.rss_mb ?? '?'} MB`,
    `RSS per device:      ${(rssGrowKb / Math.max(1, maxOnline)).toFixed(1)} KB (platform side, all processes)`,
    `platform CPU:        ${cpuPct.map((c) => `${c.toFixed(1)} %`).join(' / ')} of a core over ${seconds.toFixed(0)} s held; ${((cpuSum * 10_000) / Math.max(1, maxOnline)).toFixed(1)} % per 10k devices`,
    `farm CPU:            ${seconds > 0 ? (((cpuTo!.farm - cpuFrom!.farm) / seconds) * 100).toFixed(1) : '?'} % of a core over the same seconds (the run and its agents); ${seconds > 0 ? ((((cpuTo!.farm - cpuFrom!.farm) / seconds) * 100 * 10_000) / Math.max(1, maxOnline)).toFixed(1) : '?'} % per 10k devices`,
    `login burst CPU:     ${burstCpu && burstCpu.logins > 0 ? `farm ${burstCpu.farm.toFixed(1)} + platform ${burstCpu.platform.toFixed(1)} CPU-s for ${burstCpu.logins} logins (first device online → all online): ${(((burstCpu.farm + burstCpu.platform) * 1000) / burstCpu.logins).toFixed(2)} ms per login (farm ${((burstCpu.farm * 1000) / burstCpu.logins).toFixed(2)}, platform ${((burstCpu.platform * 1000) / burstCpu.logins).toFixed(2)}; the keepalives of those already online included)` : 'not measured (all online within one 2 s sample, or never)'}`,
    `keepalives:          ${seconds > 0 ? Math.round((cpuTo!.keepalives - cpuFrom!.keepalives) / seconds) : '?'} /s at the platform`,
    `farm:                exit ${code}, logins ok ${Object.entries(
      summary.metrics.counters as Record<string, number>,
    )
      .filter(([k]) => k.startsWith('logins{result:ok'))
      .reduce(
        (n, [, v]) => n + v,
        0,
      )}, keepalive lateness p50 ${lateness.p50} ms p99 ${lateness.p99} ms (n=${lateness.count}), rtt p50 ${rtt.p50} ms p99 ${rtt.p99} ms`,
    `run:                 ${Math.round((Date.now() - started) / 1000)} s, results in ${runDir}`,
  ].join('\n'),
);
process.exit(code === 0 ? 0 : 1);
