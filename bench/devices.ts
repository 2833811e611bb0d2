// Idle devices held by one farm process: N NVRs (4 channels each) run by `ivtfarm run` against the
// reference IVC started as a separate process (`ivtfarm ivc`), so the farm's figures are its own.
// Prints devices held, RSS per device, CPU per worker, keepalive send lateness p50/p99, login rate.
// Bounded: the IVC and the farm are child processes on 127.0.0.0/8, stopped at the end.
//
//   npx tsc -p . && node dist/bench/devices.js [--devices 10000] [--channels 4] [--ramp 40] [--hold 60]
//                                              [--node-flags "--optimize-for-size"]
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gaugeSum } from '../src/metrics/labels.js';
import { killCliChildren, type Running, startCli } from '../support/cli-child.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    channels: { type: 'string', default: '4' },
    ramp: { type: 'string', default: '40' },
    hold: { type: 'string', default: '60' },
    workers: { type: 'string', default: '2' },
    'node-flags': { type: 'string', default: '' },
  },
});
const devices = Number(values.devices);
const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-bench-devices-'));
process.on('exit', killCliChildren);

function start(args: string[], nodeFlags: string[] = []): Running {
  return startCli(args, { BENCH_PW: 'bench-password' }, nodeFlags);
}

// The platform, alone in its process: 10k devices cost it 10k sockets of its own fd budget.
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

const scenario = join(dir, 'devices.yaml');
writeFileSync(
  scenario,
  `name: bench-devices
target: ${url}
devices:
  count: ${devices}
  login_code: "bench-{index:05}"
  password: { env: BENCH_PW }
  mix: [{ weight: 1, kind: nvr, channels: ${Number(values.channels)} }]
  source_addresses: [127.0.6.0/28]
stages:
  - { duration: ${values.ramp}s, target: ${devices} }
  - { duration: ${values.hold}s, target: ${devices} }
workers: ${Number(values.workers)}
`,
);
const flags = values['node-flags'] ? values['node-flags'].split(/\s+/) : [];
const started = Date.now();
const farm = start(['run', scenario, '--out', join(dir, 'reports'), '--quiet'], flags);
const code = await new Promise<number | null>((resolve) => farm.child.on('exit', resolve));
ivc.child.kill('SIGINT');
if (code !== 0) {
  console.error(farm.output());
  throw new Error(`the farm exited ${code}`);
}

interface Second {
  t: number;
  gauges: Record<string, number>;
  counters: Record<string, number>;
  histograms: Record<string, { p50: number; p99: number; count: number }>;
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
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const rssBase = seconds[0]?.gauges.rss_bytes ?? 0;
const rssHeld = mean(steady.map((s) => s.gauges.rss_bytes ?? 0));
const workerKeys = Object.keys(steady[0]?.gauges ?? {}).filter((k) => /^cpu_percent\{worker:\d+\}$/.test(k));
const lateness = summary.metrics.histograms.keepalive_lateness ?? { p50: NaN, p99: NaN, count: 0 };
const rtt = summary.metrics.histograms.keepalive_rtt ?? { p50: NaN, p99: NaN };

const lines = [
  `devices:             ${devices} NVR × ${values.channels} channels, ${values.workers} workers, node flags: ${flags.join(' ') || '(none)'}`,
  `devices held:        ${Math.max(...seconds.map(online))} online at most; ${held.length} s with all ${devices} online`,
  `login rate:          ${allOnline > firstLogin ? Math.round(devices / (allOnline - firstLogin + 1)) : '?'} logins/s (first login → all online: ${allOnline - firstLogin + 1} s)`,
  `RSS:                 ${(rssBase / 2 ** 20).toFixed(0)} MB before devices → ${(rssHeld / 2 ** 20).toFixed(0)} MB held`,
  `RSS per device:      ${((rssHeld - rssBase) / devices / 1024).toFixed(1)} KB`,
  `CPU per worker:      ${workerKeys.map((k) => `${k.replace(/\D+/g, '')}: ${mean(steady.map((s) => s.gauges[k] ?? 0)).toFixed(1)} %`).join('  ')}  (process ${mean(steady.map((s) => s.gauges['cpu_percent{worker:process}'] ?? 0)).toFixed(1)} % of one core)`,
  `keepalive lateness:  p50 ${lateness.p50} ms  p99 ${lateness.p99} ms  (n=${lateness.count})`,
  `keepalive rtt:       p50 ${rtt.p50} ms  p99 ${rtt.p99} ms`,
  `run:                 ${Math.round((Date.now() - started) / 1000)} s, results in ${runDir}`,
];
console.log(lines.join('\n'));
process.exit(0);
