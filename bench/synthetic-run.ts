// A synthetic long run directory of a 100k-device farm: many series (RPC methods × 2 directions,
// worker threads, every disconnect reason, error codes, four stream qualities), one sample per
// second. Used by bench/report-size.ts and by the report tests (a 1-hour run rendered in the pool).

import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DISCONNECT_REASONS } from '../src/core/disconnect-reasons.js';
import type { SecondSample } from '../src/metrics/aggregator.js';
import type { HistogramSummary } from '../src/metrics/summary.js';

export interface SyntheticRun {
  seconds: number;
  /** RPC methods (each seen in both directions). */
  methods: number;
  /** Worker threads (per-thread health series). */
  workers: number;
}

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

function sample(i: number, t0: number, methods: number, workers: number): SecondSample {
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
  for (let m = 0; m < methods; m++) {
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
  for (let w = 0; w < workers; w++) {
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

/**
 * Writes `timeseries.jsonl` (no summary: a report of a run that did not finish) and `scenario.json`
 * named "report-size" into `dir`, ending now. Returns the time series' size in bytes.
 */
export function writeSyntheticRun(dir: string, run: SyntheticRun): number {
  seed = 7;
  const t0 = Math.floor(Date.now() / 1000) - run.seconds;
  const bytes = writeFileLines(join(dir, 'timeseries.jsonl'), run.seconds, (i) =>
    JSON.stringify(sample(i, t0, run.methods, run.workers)),
  );
  writeFileSync(
    join(dir, 'scenario.json'),
    JSON.stringify({
      name: 'report-size',
      media: { ld: 256_000, sd: 512_000, hd: 2_000_000, fhd: 4_000_000 },
    }),
  );
  return bytes;
}
