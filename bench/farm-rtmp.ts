// Media through the farm: N cameras run by `ivtfarm run`, each pushing one stream by itself
// (`devices.push`) to nginx-rtmp (live, no recording), logged in to the reference platform started
// as a separate process (`ivtfarm ivc`), so that the farm's processes — `ivtfarm run` and the
// local agents it starts — hold devices and media only. Once every stream is live (and `--settle`
// seconds more), the farm's and nginx's CPU (/proc) and the farm's pushed bytes (its Prometheus
// counter) are read at the start and end of a `--seconds` window: farm CPU-seconds per pushed GB,
// comparable with bench/rtmp.ts; nginx's sockets (`ss`) give each publisher's bitrate at the
// server over the window. The bitrate and pacing figures are the run's own (summary.json
// thresholds judged over the hold). `--idle-baseline` first runs the same devices without pushes
// and measures their CPU over an equal window, so the media's own CPU-s per GB is printed too.
// Bounded: every process is a child on 127.0.0.0/8, stopped at the end.
//
//   npx tsc -p . && node dist/bench/farm-rtmp.js --devices 1000 --ramp 10 --seconds 60
//   node dist/bench/farm-rtmp.js --devices 10000 --ramp 60 --seconds 60 --idle-baseline
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { DEFAULT_DEVICES_PER_PROCESS } from '../src/agent/choose.js';
import { loadCatalogue, type Quality } from '../src/media/catalogue.js';
import { killCliChildren, type Running, startCli } from '../support/cli-child.js';
import { eventually } from '../support/eventually.js';
import { childPids, freePort, type NginxRtmp, startNginxRtmp } from '../support/nginx-rtmp.js';
import { int, procCpuSeconds, quality, sleep } from './bench-args.js';

interface Options {
  devices: number;
  ramp: number;
  settle: number;
  seconds: number;
  quality: Quality;
  agents?: number;
  workers?: number;
  nginxWorkers: number;
  nodeFlags: string;
  heapTrim: boolean;
  idleBaseline?: boolean;
  keep?: boolean;
  json?: boolean;
}

const options = new Command('bench-farm-rtmp')
  .description('N devices of `ivtfarm run` each pushing one stream to nginx-rtmp (loopback only)')
  .option('--devices <n>', 'cameras, one pushed stream each', int(1, 18_000), 1000)
  .option(
    '--ramp <s>',
    'seconds from 0 to all devices (logins and pushes started per second)',
    int(1, 600),
    20,
  )
  .option('--settle <s>', 'seconds after every stream is live before the window opens', int(0, 120), 10)
  .option(
    '--seconds <s>',
    'the measured window, rounded up to whole loops of the media file',
    int(10, 1800),
    64,
  )
  .option('--quality <q>', 'rendition pushed (media/manifest.json)', quality, 'ld' as Quality)
  .option(
    '--agents <n>',
    'local agent processes (`run --agents`; default: enough for a WebSocket and a push per device within the open-files limit)',
    int(0, 64),
  )
  .option(
    '--workers <n>',
    'worker threads (`run --workers`) when the devices run in this process',
    int(1, 64),
  )
  .option('--nginx-workers <n>', 'nginx worker processes', int(1, 2), 1)
  .option(
    '--node-flags <flags>',
    'node flags of the farm process, e.g. "--cpu-prof --cpu-prof-dir=prof" (local agents do not get them)',
    '',
  )
  .option('--no-heap-trim', 'run the farm with IVTFARM_HEAP_TRIM=off (no heap trim pause after the logins)')
  .option('--idle-baseline', 'first measure the same devices online without pushes over an equal window')
  .option(
    '--keep',
    'keep the temporary directory (scenarios, run directories, output of the farm, nginx log)',
  )
  .option('--json', 'also print the figures as one JSON line')
  .parse()
  .opts<Options>();

const GB = 1e9;
const run = promisify(execFile);
const rendition = loadCatalogue().rendition(options.quality);
/** Whole loops of the rendition's file: every stream's window then holds the same media, whatever its phase. */
const windowSeconds = Math.ceil(options.seconds / rendition.durationSeconds) * rendition.durationSeconds;
const PASSWORD_ENV = 'BENCH_FARM_RTMP_PW';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const PAGE = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
/** A WebSocket and an RTMP socket per device: the agents the open-files limit asks for. */
const agents =
  options.agents ??
  (options.devices * 2 > DEFAULT_DEVICES_PER_PROCESS
    ? Math.ceil((options.devices * 2) / DEFAULT_DEVICES_PER_PROCESS)
    : 0);
const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-bench-farm-rtmp-'));
process.env[PASSWORD_ENV] ??= 'bench-password';
process.on('exit', killCliChildren);

/** Sum of the samples of one Prometheus family whose labels contain every `labels` pair. */
function promValue(text: string, family: string, labels: string[] = []): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${family}{`) && !line.startsWith(`${family} `)) continue;
    const close = line.lastIndexOf('}');
    const labelText = close > 0 ? line.slice(family.length, close + 1) : '';
    if (labels.every((l) => labelText.includes(l))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** GET that names the network error behind fetch's "fetch failed". */
async function get(url: string): Promise<string> {
  try {
    return await (await fetch(url)).text();
  } catch (e) {
    const cause = (e as Error & { cause?: Error & { code?: string } }).cause;
    throw new Error(`${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
}

function scrape(port: number): Promise<string> {
  return get(`http://127.0.0.1:${port}/metrics`);
}

/** A scrape that a farm too busy to answer at once gets a few more seconds for. */
function scrapeSurely(port: number): Promise<string> {
  return eventually(`the farm's metrics on port ${port}`, () => scrape(port), 15_000, 250);
}

interface ProcessSample {
  cpuSeconds: number;
  rssBytes: number;
}

/** CPU (utime + stime) and RSS summed over processes; a process gone counts 0. */
async function sampleProcesses(pids: number[]): Promise<ProcessSample> {
  const one = async (pid: number): Promise<ProcessSample> => {
    const [cpu, statm] = await Promise.all([
      procCpuSeconds(pid, CLK_TCK).catch(() => 0),
      readFile(`/proc/${pid}/statm`, 'utf8').catch(() => '0 0'),
    ]);
    return { cpuSeconds: cpu, rssBytes: Number(statm.split(' ')[1]) * PAGE };
  };
  const all = await Promise.all(pids.map(one));
  return {
    cpuSeconds: all.reduce((n, s) => n + s.cpuSeconds, 0),
    rssBytes: all.reduce((n, s) => n + s.rssBytes, 0),
  };
}

/** The reference platform alone in its process: the farm's CPU is then devices and media only. */
async function startPlatform(): Promise<{ url: string; ivc: Running }> {
  const ivc = startCli(['ivc', '--port', '0', '--password-env', PASSWORD_ENV]);
  const url = await eventually(
    'ivtfarm ivc to listen',
    () => {
      if (ivc.child.exitCode !== null) throw new Error(`ivtfarm ivc exited: ${ivc.output()}`);
      return /devices connect to: (ws:\/\/\S+)/.exec(ivc.output())?.[1];
    },
    30_000,
    100,
  );
  return { url, ivc };
}

interface Phase {
  /** Pushes to this RTMP server, or none (the idle baseline). */
  rtmpPort: number | null;
  name: string;
}

function scenarioText(platformUrl: string, phase: Phase, holdSeconds: number): string {
  const n = options.devices;
  const from = `${options.ramp + options.settle}s..`;
  const push =
    phase.rtmpPort === null
      ? ''
      : `  push: { url: "rtmp://127.0.0.1:${phase.rtmpPort}/live/{login_code}-{channel}", quality: ${options.quality}, channels: 1 }\n`;
  const judged = (metric: string, expressions: string[]) =>
    `  "${metric}":\n${expressions.map((e) => `    - { threshold: "${e}", during: "${from}" }\n`).join('')}`;
  const thresholds =
    phase.rtmpPort === null
      ? judged('devices{state:online}', [`min>=${n}`])
      : judged(`streams_live{quality:${options.quality}}`, [`min>=${n}`]) +
        judged(`bitrate_achieved_ratio{quality:${options.quality}}`, [
          'min>=0.99',
          'p(1)>=0.99',
          'p(5)>=0.99',
          'p(50)>=0.99',
        ]) +
        judged('pacing_lag', ['p(50)<100', 'p(99)<100']);
  return `name: bench-farm-rtmp-${phase.name}
target: ${platformUrl}
devices:
  count: ${n}
  login_code: "frtmp-{index:05}"
  password: { env: ${PASSWORD_ENV} }
  mix: [{ weight: 1, kind: camera }]
  source_addresses: [127.0.12.0/27]
${push}stages:
  - { name: ramp, duration: ${options.ramp}s, target: ${n} }
  - { name: hold, duration: ${holdSeconds}s, target: ${n} }
${options.workers ? `workers: ${options.workers}\n` : ''}thresholds:
${thresholds}`;
}

/**
 * What nginx's kernel sockets took from each publisher (the peer address names the connection):
 * bytes received less those still queued for nginx to read, read with `ss` so that nginx itself
 * does no work for it (its own `rtmp_stat` page stalls its one worker for seconds at 10,000
 * streams, and the publishers back up behind it).
 */
type ServerStreams = Map<string, { bytesIn: number; ms: number }>;

async function serverStreams(port: number): Promise<ServerStreams> {
  const at = performance.now();
  const { stdout } = await run('ss', ['-tinH', 'state', 'established', 'sport', '=', `:${port}`], {
    maxBuffer: 256 * 2 ** 20,
  });
  const ms = (at + performance.now()) / 2;
  const streams: ServerStreams = new Map();
  let peer = '';
  let queued = 0;
  for (const line of stdout.split('\n')) {
    const head = /^(\d+)\s+\d+\s+\S+\s+(\S+)/.exec(line);
    if (head) {
      queued = Number(head[1]);
      peer = head[2]!;
      continue;
    }
    const received = /bytes_received:(\d+)/.exec(line)?.[1];
    if (peer && received) streams.set(peer, { bytesIn: Number(received) - queued, ms });
    peer = '';
  }
  return streams;
}

/**
 * Each of the `planned` streams' bitrate at the server over the window (RTMP bytes, chunk headers
 * included: ~1 % above the media) ÷ the rendition's; a connection not there at both ends counts 0.
 */
function serverRatios(
  before: ServerStreams,
  after: ServerStreams,
  planned: number,
  bitrate: number,
): number[] {
  const ratios: number[] = [];
  for (const [name, b] of after) {
    const a = before.get(name);
    if (a && b.ms > a.ms) ratios.push(((b.bytesIn - a.bytesIn) * 8) / ((b.ms - a.ms) / 1000) / bitrate);
  }
  while (ratios.length < planned) ratios.push(0);
  return ratios.sort((x, y) => x - y);
}

interface Window {
  seconds: number;
  /** Per planned stream, as nginx's sockets received it. */
  serverRatios: number[] | null;
  farmCpuSeconds: number;
  farmRssMaxBytes: number;
  farmProcesses: number;
  nginxCpuSeconds: number;
  nginxRssBytes: number;
  pushedBytes: number;
  streamsLiveAtStart: number;
  streamsLiveAtEnd: number;
  onlineAtEnd: number;
}

interface PhaseResult {
  window: Window | null;
  exitCode: number | null;
  runDir: string;
  output: string;
}

/** Runs the farm for one phase, measures the window once everything is up, waits for its end. */
async function runPhase(platformUrl: string, phase: Phase, nginx: NginxRtmp | null): Promise<PhaseResult> {
  // Slack for a late start: the window must close before the load begins to stop.
  const hold = options.settle + windowSeconds + 30;
  const scenario = join(dir, `${phase.name}.yaml`);
  writeFileSync(scenario, scenarioText(platformUrl, phase, hold));
  const metricsPort = await freePort();
  const out = join(dir, `reports-${phase.name}`);
  const args = ['run', scenario, '--out', out, '--quiet', '--metrics-port', String(metricsPort)];
  args.push('--agents', String(agents));
  const farm = startCli(
    args,
    options.heapTrim ? {} : { IVTFARM_HEAP_TRIM: 'off' },
    options.nodeFlags.split(/\s+/).filter(Boolean),
  );
  const farmPid = farm.child.pid ?? 0;
  const exited = farm.exited;
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  const n = options.devices;
  const online = (m: string) => promValue(m, 'ivtfarm_devices', ['state="online"']);
  const live = (m: string) => promValue(m, 'ivtfarm_streams_live');
  const up = (m: string) => (phase.rtmpPort === null ? online(m) : live(m));
  let window: Window | null = null;
  try {
    await eventually(
      phase.rtmpPort === null ? `${n} devices online` : `${n} streams live`,
      async () => ended || up(await scrape(metricsPort)) >= n,
      (options.ramp + 60) * 1000,
      1000,
    );
    if (!ended) {
      await sleep(options.settle * 1000);
      window = await measure(farmPid, metricsPort, nginx, up, online);
    }
  } catch (e) {
    console.error(`${phase.name}: ${(e as Error).message}; the run goes on to its end`);
  }
  const exitCode = await exited;
  if (options.keep) writeFileSync(join(dir, `farm-${phase.name}.log`), farm.output());
  const runs = readdirSync(out);
  return { window, exitCode, runDir: join(out, runs[0] ?? ''), output: farm.output() };
}

async function measure(
  farmPid: number,
  metricsPort: number,
  nginx: NginxRtmp | null,
  up: (m: string) => number,
  online: (m: string) => number,
): Promise<Window> {
  const farmPids = async () => [farmPid, ...(await childPids(farmPid))];
  const nginxPids = async () => (nginx ? nginx.pids() : []);
  const bytes = (m: string) => promValue(m, 'ivtfarm_bytes_sent_total', ['kind="rtmp"']);
  // `ss` (a second or so of its own CPU at 10,000 sockets) runs outside the CPU samples.
  const sockets0 = nginx ? await serverStreams(nginx.port) : null;
  const [m0, farm0, nginx0] = await Promise.all([
    scrapeSurely(metricsPort),
    farmPids().then(sampleProcesses),
    nginxPids().then(sampleProcesses),
  ]);
  const t0 = performance.now();
  const end = t0 + windowSeconds * 1000;
  let rssMax = farm0.rssBytes;
  while (performance.now() < end) {
    await sleep(Math.min(1000, end - performance.now()));
    rssMax = Math.max(rssMax, (await sampleProcesses(await farmPids())).rssBytes);
  }
  const pids = await farmPids();
  const [m1, farm1, nginx1] = await Promise.all([
    scrapeSurely(metricsPort),
    sampleProcesses(pids),
    nginxPids().then(sampleProcesses),
  ]);
  const sockets1 = nginx ? await serverStreams(nginx.port) : null;
  return {
    seconds: (performance.now() - t0) / 1000,
    serverRatios:
      sockets0 && sockets1 ? serverRatios(sockets0, sockets1, options.devices, rendition.bitrate) : null,
    farmCpuSeconds: farm1.cpuSeconds - farm0.cpuSeconds,
    farmRssMaxBytes: Math.max(rssMax, farm1.rssBytes),
    farmProcesses: pids.length,
    nginxCpuSeconds: nginx1.cpuSeconds - nginx0.cpuSeconds,
    nginxRssBytes: nginx1.rssBytes,
    pushedBytes: bytes(m1) - bytes(m0),
    streamsLiveAtStart: up(m0),
    streamsLiveAtEnd: up(m1),
    onlineAtEnd: online(m1),
  };
}

interface ThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
  observed: number | null;
}
interface Summary {
  run: { verdict: string; reasons?: string[] };
  thresholds: ThresholdResult[];
  metrics: {
    counters: Record<string, number>;
    histograms: Record<string, { p50: number; p99: number; max: number; count: number }>;
  };
}

function readSummary(runDir: string): Summary | null {
  try {
    return JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as Summary;
  } catch {
    return null;
  }
}

/** The run's own figure for `metric` and `expression` (judged over the hold), or null. */
function observed(summary: Summary | null, metric: string, expression: string): number | null {
  return (
    summary?.thresholds.find((t) => t.metric === metric && t.expression === expression)?.observed ?? null
  );
}

const fixed = (v: number | null, digits: number) => (v === null ? '?' : v.toFixed(digits));
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

async function main(): Promise<void> {
  const { url, ivc } = await startPlatform();
  const nginx = await startNginxRtmp(join(dir, 'nginx'), {
    workerConnections: options.devices + 512,
    workerProcesses: options.nginxWorkers,
  });
  const started = Date.now();
  try {
    const idle = options.idleBaseline ? await runPhase(url, { rtmpPort: null, name: 'idle' }, null) : null;
    const push = await runPhase(url, { rtmpPort: nginx.port, name: 'push' }, nginx);
    const nginxErrors = (await nginx.errorLog()).split('\n').filter((l) => /\[(alert|crit|emerg)\]/.test(l));
    report(push, idle, nginxErrors, started);
  } finally {
    await nginx.stop();
    ivc.child.kill('SIGINT');
    await ivc.exited;
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

function report(push: PhaseResult, idle: PhaseResult | null, nginxErrors: string[], started: number): void {
  const summary = readSummary(push.runDir);
  const w = push.window;
  const q = options.quality;
  const ratio = `bitrate_achieved_ratio{quality:${q}}`;
  const pct = (e: string) => observed(summary, ratio, e);
  const lag = (e: string) => observed(summary, 'pacing_lag', e);
  const gbPushed = w ? w.pushedBytes / GB : 0;
  const farmPerGB = w && gbPushed > 0 ? w.farmCpuSeconds / gbPushed : null;
  const idleCpu = idle?.window && w ? (idle.window.farmCpuSeconds * w.seconds) / idle.window.seconds : null;
  const mediaPerGB = farmPerGB !== null && idleCpu !== null ? (w!.farmCpuSeconds - idleCpu) / gbPushed : null;
  const server = w?.serverRatios ?? null;
  const atServer = (p: number) =>
    server ? server[Math.min(server.length - 1, Math.floor((p / 100) * server.length))]! : null;
  const failed = (summary?.thresholds ?? []).filter((t) => !t.ok);
  const publishFailures = Object.entries(summary?.metrics.counters ?? {})
    .filter(([k]) => k.startsWith('publishes{result:failed'))
    .map(([k, v]) => `${/reason:([^,}]+)/.exec(k)?.[1]} ${v}`);
  const layout = agents > 0 ? `${agents} local agents + the controller` : 'one process';
  const fig = {
    devices: options.devices,
    quality: q,
    agents,
    exitCode: push.exitCode,
    verdict: summary?.run.verdict ?? null,
    windowSeconds: w ? +w.seconds.toFixed(1) : null,
    streamsLiveAtStart: w?.streamsLiveAtStart ?? null,
    streamsLiveAtEnd: w?.streamsLiveAtEnd ?? null,
    streamsLiveMinInHold: observed(summary, `streams_live{quality:${q}}`, `min>=${options.devices}`),
    bitrateRatioMin: pct('min>=0.99'),
    bitrateRatioP1: pct('p(1)>=0.99'),
    bitrateRatioP5: pct('p(5)>=0.99'),
    bitrateRatioP50: pct('p(50)>=0.99'),
    serverStreamsAt99: server ? server.filter((r) => r >= 0.99).length : null,
    serverRatioMin: server ? server[0]! : null,
    serverRatioP1: atServer(1),
    serverRatioP50: atServer(50),
    pacingLagP50Ms: lag('p(50)<100'),
    pacingLagP99Ms: lag('p(99)<100'),
    pushedGB: +gbPushed.toFixed(3),
    farmCpuSeconds: w ? +w.farmCpuSeconds.toFixed(2) : null,
    farmCores: w ? +(w.farmCpuSeconds / w.seconds).toFixed(3) : null,
    farmCpuSecondsPerGB: farmPerGB === null ? null : +farmPerGB.toFixed(2),
    idleFarmCpuSeconds: idleCpu === null ? null : +idleCpu.toFixed(2),
    mediaCpuSecondsPerGB: mediaPerGB === null ? null : +mediaPerGB.toFixed(2),
    farmRssMaxMB: w ? mb(w.farmRssMaxBytes) : null,
    idleFarmRssMaxMB: idle?.window ? mb(idle.window.farmRssMaxBytes) : null,
    nginxCpuSeconds: w ? +w.nginxCpuSeconds.toFixed(2) : null,
    nginxCores: w ? +(w.nginxCpuSeconds / w.seconds).toFixed(3) : null,
    nginxRssMB: w ? mb(w.nginxRssBytes) : null,
    publishFailures,
  };
  const lines = [
    `farm rtmp bench: ${options.devices} cameras × 1 ${q} stream → nginx-rtmp (live, no recording, ${options.nginxWorkers} worker${options.nginxWorkers > 1 ? 's' : ''}), farm: ${layout}${options.heapTrim ? '' : ' (IVTFARM_HEAP_TRIM=off)'}, platform: ivtfarm ivc (own process)`,
    `verdict:          exit ${push.exitCode} (${fig.verdict ?? 'no summary'})${failed.length ? `; failed: ${failed.map((t) => `${t.metric} ${t.expression} (observed ${t.observed})`).join('; ')}` : ''}`,
    `streams live:     ${fig.streamsLiveAtStart ?? '?'} at the window's start, ${fig.streamsLiveAtEnd ?? '?'} at its end; fewest in the hold ${fig.streamsLiveMinInHold ?? '?'} of ${options.devices}; publish failures: ${publishFailures.join(', ') || 'none'}`,
    `farm's ratio:     min ${fixed(fig.bitrateRatioMin, 3)}  p(1) ${fixed(fig.bitrateRatioP1, 3)}  p(5) ${fixed(fig.bitrateRatioP5, 3)}  p50 ${fixed(fig.bitrateRatioP50, 3)}  (the run's bitrate_achieved_ratio: per stream-second over 5 s, hold from ${options.ramp + options.settle} s)`,
    server
      ? `at nginx:         ${fig.serverStreamsAt99} of ${server.length} connections (${options.devices} planned) at ≥ 99 % of ${Math.round(rendition.bitrate / 1000)} kbit/s over the window (its sockets, ss); ratio min ${fixed(fig.serverRatioMin, 3)}  p(1) ${fixed(fig.serverRatioP1, 3)}  p50 ${fixed(fig.serverRatioP50, 3)}`
      : 'at nginx:         no window measured',
    `pacing lag:       p50 ${fixed(fig.pacingLagP50Ms, 1)} ms  p99 ${fixed(fig.pacingLagP99Ms, 1)} ms  (same part of the hold)`,
    `window:           ${fig.windowSeconds ?? '?'} s: pushed ${fig.pushedGB} GB (${w ? ((w.pushedBytes * 8) / w.seconds / 1e6).toFixed(1) : '?'} Mbit/s)`,
    `farm CPU:         ${fig.farmCpuSeconds ?? '?'} s (${fig.farmCores ?? '?'} cores, ${w?.farmProcesses ?? '?'} processes) → ${fig.farmCpuSecondsPerGB ?? '?'} CPU-s per pushed GB`,
    idle
      ? `idle devices:     ${fig.idleFarmCpuSeconds ?? '?'} CPU-s over an equal window without pushes (exit ${idle.exitCode}) → media alone ${fig.mediaCpuSecondsPerGB ?? '?'} CPU-s per pushed GB`
      : 'idle devices:     not measured (--idle-baseline)',
    `farm RSS:         ${fig.farmRssMaxMB ?? '?'} MB at most in the window${fig.idleFarmRssMaxMB !== null ? ` (idle devices: ${fig.idleFarmRssMaxMB} MB)` : ''}`,
    `nginx:            ${fig.nginxCpuSeconds ?? '?'} CPU-s (${fig.nginxCores ?? '?'} cores), RSS ${fig.nginxRssMB ?? '?'} MB${nginxErrors.length ? `; ${nginxErrors.length} alert/crit lines, first: ${nginxErrors[0]}` : ''}`,
    `run:              ${Math.round((Date.now() - started) / 1000)} s${options.keep ? `, results in ${push.runDir}` : ''}`,
  ];
  console.log(lines.join('\n'));
  if (!summary) console.error(push.output.slice(-4000));
  if (options.json) console.log(JSON.stringify(fig));
}

await main();
process.exit(0);
