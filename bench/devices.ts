// Idle devices held by one farm: N NVRs (4 channels each) run by `ivtfarm run` against the
// reference IVC started as a separate process (`ivtfarm ivc`), so the farm's figures are its own.
// Prints devices held, RSS per device right after the login burst and held, CPU per worker,
// keepalive send lateness p50/p99, login rate, and the heap trims the workers ran.
// Bounded: the IVC and the farm are child processes on 127.0.0.0/8, stopped at the end.
//
//   npx tsc -p . && node dist/bench/devices.js --devices 10000 --channels 4 --ramp 40 --hold 60
//   node dist/bench/devices.js --help
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { gaugeSum } from '../src/metrics/labels.js';
import { killCliChildren, type Running, startCli } from '../support/cli-child.js';
import { int } from './bench-args.js';

interface Options {
  devices: number;
  channels: number;
  ramp: number;
  hold: number;
  workers: number;
  nodeFlags: string;
  agents?: number;
  target?: string;
}

const options = new Command('bench-devices')
  .description('idle NVRs held by one `ivtfarm run` against `ivtfarm ivc` in its own process (loopback only)')
  .option('--devices <n>', 'devices to log in and hold', int(1, 200_000), 10_000)
  .option('--channels <n>', 'channels per NVR', int(1, 64), 4)
  .option(
    '--ramp <s>',
    'seconds of the ramp from 0 to all devices (devices/ramp = logins per second)',
    int(0, 3600),
    40,
  )
  .option('--hold <s>', 'seconds all devices are held after the ramp', int(1, 3600), 60)
  .option('--workers <n>', 'worker threads of the farm (scenario `workers:`)', int(1, 64), 2)
  .option('--node-flags <flags>', 'node flags of the farm process, e.g. "--optimize-for-size"', '')
  .option('--agents <n>', 'run the devices in n local agent processes (`run --agents n`)', int(1, 64))
  .option(
    '--target <url>',
    'a platform already running (its device password in BENCH_PW) instead of starting `ivtfarm ivc`',
  )
  .parse()
  .opts<Options>();

const devices = options.devices;
const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-bench-devices-'));
process.on('exit', killCliChildren);
process.env.BENCH_PW ??= 'bench-password';

function start(args: string[], nodeFlags: string[] = []): Running {
  return startCli(args, {}, nodeFlags);
}

/** The platform, alone in its process: 10k devices cost it 10k sockets of its own fd budget. */
async function startIvc(): Promise<{ url: string; stop: () => void }> {
  const ivc = start(['ivc', '--port', '0', '--password-env', 'BENCH_PW']);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /devices connect to: (ws:\/\/\S+)/.exec(ivc.output());
      if (m) {
        clearInterval(timer);
        resolve(m[1]!);
      }
    }, 100);
    ivc.child.on('exit', () => reject(new Error(`ivtfarm ivc exited: ${ivc.output()}`)));
  });
  return { url, stop: () => ivc.child.kill('SIGINT') };
}

const platform = options.target ? { url: options.target, stop: () => {} } : await startIvc();
/** Seconds with the workers up and no device started: the baseline the devices add to. */
const IDLE_SECONDS = 6;
const scenario = join(dir, 'devices.yaml');
writeFileSync(
  scenario,
  `name: bench-devices
target: ${platform.url}
devices:
  count: ${devices}
  login_code: "bench-{index:06}"
  password: { env: BENCH_PW }
  mix: [{ weight: 1, kind: nvr, channels: ${options.channels} }]
  source_addresses: [127.0.6.0/28]
stages:
  - { duration: ${IDLE_SECONDS}s, target: 0 }
  - { duration: ${options.ramp}s, target: ${devices} }
  - { duration: ${options.hold}s, target: ${devices} }
workers: ${options.workers}
`,
);
const flags = options.nodeFlags ? options.nodeFlags.split(/\s+/) : [];
const started = Date.now();
const runArgs = ['run', scenario, '--out', join(dir, 'reports'), '--quiet'];
if (options.agents) runArgs.push('--agents', String(options.agents));
const farm = start(runArgs, flags);
const code = await new Promise<number | null>((resolve) => farm.child.on('exit', resolve));
platform.stop();
// 99: a check failed (e.g. devices that never came online): the figures still say how far it got.
if (code !== 0 && code !== 99) {
  console.error(farm.output());
  throw new Error(`the farm exited ${code}`);
}

interface Second {
  t: number;
  gauges: Record<string, number>;
  counters: Record<string, number>;
  histograms: Record<string, { p50: number; p99: number; max: number; count: number }>;
}
const runDir = join(dir, 'reports', readdirSync(join(dir, 'reports'))[0]!);
const seconds = readFileSync(join(runDir, 'timeseries.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Second);
const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
const online = (s: Second) => s.gauges['devices{state:online}'] ?? 0;
const allOnline = seconds.findIndex((s) => online(s) >= devices);
const firstLogin = seconds.findIndex((s) => gaugeSum(s.counters, 'logins{result:ok,reason:ok') > 0);
const held = seconds.filter((s, i) => i > allOnline && allOnline >= 0 && online(s) >= devices);
const steady = held.slice(Math.floor(held.length / 3)); // after the login burst settled
const burst = held.slice(5, 10); // 5–10 s after the last login: the burst's leftovers, trimmed or not
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const rssOf = (ss: Second[]) => mean(ss.map((s) => s.gauges.rss_bytes ?? 0));
// Before the first login, with every thread started: what the devices add is measured from here.
const rssBase = rssOf(seconds.slice(Math.max(0, firstLogin - 3), Math.max(1, firstLogin)));
const perDevice = (rss: number) => (rss > 0 ? ((rss - rssBase) / devices / 1024).toFixed(1) : '?');
const wholePerDevice = (rss: number) => (rss > 0 ? (rss / devices / 1024).toFixed(1) : '?');
const workerKeys = Object.keys(steady[0]?.gauges ?? {}).filter((k) => /^cpu_percent\{worker:\d+\}$/.test(k));
const histograms = summary.metrics.histograms;
const lateness = histograms.keepalive_lateness ?? { p50: NaN, p99: NaN, count: 0 };
const rtt = histograms.keepalive_rtt ?? { p50: NaN, p99: NaN };
const trims = Object.entries(histograms)
  .filter(([k]) => k.startsWith('heap_trim_pause'))
  .map(([k, h]) => {
    const { count, max } = h as { count: number; max: number };
    return `${k.replace(/\D+/g, '') || 'all'}: ${count} (longest ${max} ms)`;
  });

const lines = [
  `devices:             ${devices} NVR × ${options.channels} channels, ${options.agents ? `${options.agents} agents` : `${options.workers} workers`}, node flags: ${flags.join(' ') || '(none)'}`,
  `verdict:             exit ${code}${
    code === 0
      ? ''
      : ` (${summary.checks
          .filter((c: { ok: boolean }) => !c.ok)
          .map((c: { reason: string }) => c.reason)
          .join('; ')})`
  }`,
  `devices held:        ${Math.max(...seconds.map(online))} online at most; ${held.length} s with all ${devices} online`,
  `login rate:          ${allOnline > firstLogin ? Math.round(devices / (allOnline - firstLogin + 1)) : '?'} logins/s (first login → all online: ${allOnline >= 0 ? allOnline - firstLogin + 1 : '?'} s)`,
  `RSS:                 ${(rssBase / 2 ** 20).toFixed(0)} MB with the threads up, before the first login → ${(rssOf(burst) / 2 ** 20).toFixed(0)} MB 5–10 s after the burst → ${(rssOf(steady) / 2 ** 20).toFixed(0)} MB held`,
  `RSS per device:      ${perDevice(rssOf(burst))} KB 5–10 s after the burst, ${perDevice(rssOf(steady))} KB held (added by the devices); whole process ÷ devices: ${wholePerDevice(rssOf(burst))} KB, ${wholePerDevice(rssOf(steady))} KB`,
  `heap trims:          ${trims.join('  ') || 'none'}`,
  `CPU per worker:      ${workerKeys.map((k) => `${k.replace(/\D+/g, '')}: ${mean(steady.map((s) => s.gauges[k] ?? 0)).toFixed(1)} %`).join('  ')}  (process ${mean(steady.map((s) => s.gauges['cpu_percent{worker:process}'] ?? 0)).toFixed(1)} % of one core)`,
  `keepalive lateness:  p50 ${lateness.p50} ms  p99 ${lateness.p99} ms  (n=${lateness.count})`,
  `keepalive rtt:       p50 ${rtt.p50} ms  p99 ${rtt.p99} ms`,
  `run:                 ${Math.round((Date.now() - started) / 1000)} s, results in ${runDir}`,
];
console.log(lines.join('\n'));
process.exit(0);
