// Size and build time of report.html for a long, large run: synthesizes a run directory with
// SECONDS per-second samples of a 100k-device farm (bench/synthetic-run.ts) and renders it (in a
// pool thread, as `ivtfarm report` does).
// Run: npx tsc -p . && node dist/bench/report-size.js [seconds=3600] [methods=40] [workers=16] [keep]
// Bounded: writes one temporary directory (≈ 100–200 MB of JSON lines for 1 h) and removes it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReportInPool } from '../src/report/html.js';
import { writeSyntheticRun } from './synthetic-run.js';

const SECONDS = Number(process.argv[2] ?? 3600);
const METHODS = Number(process.argv[3] ?? 40);
const WORKERS = Number(process.argv[4] ?? 16);
/** `keep`: leave the directory (to open the report in a browser). */
const KEEP = process.argv[5] === 'keep';

const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-report-size-'));
try {
  let started = performance.now();
  const bytes = writeSyntheticRun(dir, { seconds: SECONDS, methods: METHODS, workers: WORKERS });
  const synth = performance.now() - started;
  started = performance.now();
  const report = await renderReportInPool(dir);
  const build = performance.now() - started;
  const size = report.bytes;
  console.log(
    `timeseries.jsonl: ${SECONDS} s, ${(bytes / 1e6).toFixed(1)} MB (synthesized in ${(synth / 1000).toFixed(1)} s)`,
  );
  console.log(
    `report.html: ${(size / 1e6).toFixed(2)} MB (limit 5 MB) built in ${(build / 1000).toFixed(1)} s on pool thread ${report.threadId}, main rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
  );
  if (size > 5e6) process.exitCode = 1;
} finally {
  if (KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
