// Size and build time of report.html for a long, large run: synthesizes a run directory with
// SECONDS per-second samples of a 100k-device farm (many series: ~40 RPC methods × 2 directions,
// 16 worker threads, every disconnect reason, error codes, four stream qualities) and renders it.
// Run: npx tsc -p . && node dist/bench/report-size.js [seconds=3600] [methods=40] [workers=16] [keep]
// Bounded: writes one temporary directory (≈ 100–200 MB of JSON lines for 1 h) and removes it.

import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DISCONNECT_REASONS } from '../src/core/disconnect-reasons.js';
import type { SecondSample } from '../src/metrics/aggregator.js';
import type { HistogramSummary } from '../src/metrics/summary.js';
import { writeHtmlReport } from '../src/report/html.js';

const SECONDS = Number(process.argv[2] ?? 3600);
const METHODS = Number(process.argv[3] ?? 40);
const WORKERS = Number(process.argv[4] ?? 16);
/** `keep`: leave the directory (to open the report in a browser). */
const KEEP = process.argv[5] === 'keep';
const DEVICES = 100_000;

let seed = 7;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};

const hist = (base: number, count: number): HistogramSummary => {
  const p50 = base * (0.8 + rnd() * 0.4);
  return {
    count,
    min: p50 / 3,
    mean: p50 * 1.2,
    p50,
    p90: p50 * 2,
    p95: p50 * 2.5,
    p99: p50 * (4 + rnd() * 4),
    max: p50 * 10,
  };
};

const reasons = DISCONNECT_REASONS;
const qualities = ['ld', 'sd', 'hd', 'fhd'];

function sample(i: number, t0: number): SecondSample {
  const online = Math.min(DEVICES, i * 100);
  const counters: Record<string, number> = {
    'logins{result:ok,reason:ok}': i < 1000 ? 100 : Math.round(rnd() * 5),
    'logins{result:refused,reason:http_401}': rnd() < 0.1 ? 1 : 0,
    'alarms{type:motion}': Math.round(rnd() * 30),
    'alarms{type:tripwire}': Math.round(rnd() * 8),
    'alarms{type:external}': Math.round(rnd() * 3),
    'bytes_sent{kind:rtmp}': Math.round(2000 * 64_000 * (0.95 + rnd() * 0.1)),
    segments_created: Math.round(rnd() * 100),
  };
  for (const r of reasons) if (rnd() < 0.05) counters[`disconnects{reason:${r}}`] = 1;
  const histograms: Record<string, HistogramSummary> = {
    keepalive_rtt: hist(3, online / 10),
    login_duration: hist(20, 100),
    segment_upload_duration: hist(400, 100),
  };
  for (let m = 0; m < METHODS; m++) {
    for (const dir of ['to_ivc', 'from_ivc']) {
      const key = `{method:Method${m},direction:${dir}}`;
      histograms[`rpc_duration${key}`] = hist(2 + m, 50);
      counters[`rpcs${key}`] = 50;
      if (rnd() < 0.02) counters[`rpc_errors{method:Method${m},code:${Math.floor(rnd() * 20)}}`] = 1;
    }
  }
  const gauges: Record<string, number> = {
    'devices{state:online}': online,
    'devices{state:connecting}': Math.round(rnd() * 50),
    'devices{state:backoff}': Math.round(rnd() * 20),
    devices_target: online,
    recordings_live: 1000,
    rss_bytes: 4e9 + rnd() * 1e8,
    'cpu_percent{worker:process}': 1200 + rnd() * 200,
  };
  for (const q of qualities) {
    gauges[`streams_live{quality:${q}}`] = 500;
    histograms[`bitrate_achieved_ratio{quality:${q}}`] = hist(1, 500);
  }
  for (let w = 0; w < WORKERS; w++) {
    gauges[`cpu_percent{worker:${w}}`] = 60 + rnd() * 30;
    gauges[`heap_used_bytes{worker:${w}}`] = 2e8;
    histograms[`eventloop_delay{worker:${w}}`] = hist(2, 100);
  }
  return { t: t0 + i, counters, gauges, histograms };
}

/** Writes n lines through one descriptor (the file is too big to build as one string). */
function writeFileLines(path: string, n: number, line: (i: number) => string): number {
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    for (let i = 0; i < n; i++) bytes += writeSync(fd, `${line(i)}\n`);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-report-size-'));
try {
  const t0 = Math.floor(Date.now() / 1000) - SECONDS;
  let started = performance.now();
  const bytes = writeFileLines(join(dir, 'timeseries.jsonl'), SECONDS, (i) => JSON.stringify(sample(i, t0)));
  writeFileSync(
    join(dir, 'scenario.json'),
    JSON.stringify({
      name: 'report-size',
      media: { ld: 256_000, sd: 512_000, hd: 2_000_000, fhd: 4_000_000 },
    }),
  );
  const synth = performance.now() - started;
  started = performance.now();
  const out = await writeHtmlReport(dir);
  const build = performance.now() - started;
  const size = statSync(out).size;
  console.log(
    `timeseries.jsonl: ${SECONDS} s, ${(bytes / 1e6).toFixed(1)} MB (synthesized in ${(synth / 1000).toFixed(1)} s)`,
  );
  console.log(
    `report.html: ${(size / 1e6).toFixed(2)} MB (limit 5 MB) built in ${(build / 1000).toFixed(1)} s, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
  );
  if (size > 5e6) process.exitCode = 1;
} finally {
  if (KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
