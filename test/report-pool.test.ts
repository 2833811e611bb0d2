// The report of a long run renders in a pool thread (src/report/render-task.ts): a synthetic
// 1-hour run (bench/synthetic-run.ts, as bench/report-size.ts makes it) is rendered there and the
// page checked; an abort mid-read stops the thread and leaves the previous page untouched.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import { writeSyntheticRun } from '../bench/synthetic-run.js';
import { type RenderProgress, renderReportInPool } from '../src/report/index.js';
import { handles, handlesSettle } from './handles-support.js';

const dir = mkdtempSync(join(tmpdir(), 'ivt-report-pool-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const HOUR = 3600;
const seriesBytes = writeSyntheticRun(dir, { seconds: HOUR, methods: 8, workers: 4 });

interface ReportData {
  t0: number;
  /** uPlot's layout: data[0] is the time axis (epoch s). */
  charts: { id: string; data: number[][] }[];
}

test('the report of a 1-hour run renders in a pool thread, with progress from that thread', async () => {
  const progress: RenderProgress[] = [];
  const report = await renderReportInPool(dir, { onProgress: (p) => progress.push(p) });

  assert.notEqual(report.threadId, threadId, 'rendered on a pool thread, not the main one');
  assert.equal(report.path, join(dir, 'report.html'));
  assert.equal(report.bytes, statSync(report.path).size);
  assert.ok(progress.length >= 2, `progress messages: ${progress.length}`);
  assert.ok(progress.every((p) => p.threadId === report.threadId && p.bytesTotal === seriesBytes));
  const read = progress.map((p) => p.bytesRead);
  assert.deepEqual(
    read,
    [...read].sort((a, b) => a - b),
    'bytes read only grow',
  );

  const html = readFileSync(report.path, 'utf8');
  assert.match(html, /<title>ivtfarm report: report-size<\/title>/);
  assert.match(html, /no summary: the run did not finish/);
  const json = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html)?.[1];
  assert.ok(json, 'the chart data block');
  const data = JSON.parse(json) as ReportData;
  const devices = data.charts.find((c) => c.id === 'devices');
  assert.ok(devices, `charts: ${data.charts.map((c) => c.id).join(', ')}`);
  // the whole hour is on the time axis, thinned to at most 1,500 points
  const x = devices.data[0]!;
  assert.ok(x.length > 100 && x.length <= 1500, `points: ${x.length}`);
  const span = x.at(-1)! - x[0]!;
  assert.ok(span > HOUR - 10 && span <= HOUR, `span ${span} s`);
  assert.ok(report.bytes < 5e6, `report.html ${report.bytes} bytes`);
});

test('an abort while the series is read stops the thread; the previous page stays whole', async () => {
  const page = join(dir, 'report.html');
  if (!existsSync(page)) await renderReportInPool(dir);
  const before = readFileSync(page, 'utf8');
  const handlesBefore = handles();
  const ac = new AbortController();
  let reading: RenderProgress | undefined;
  const render = renderReportInPool(dir, {
    signal: ac.signal,
    onProgress: (p) => {
      reading ??= p;
      ac.abort();
    },
  });
  await assert.rejects(render, (e: unknown) => e instanceof Error && e.name === 'AbortError');
  assert.ok(reading && reading.bytesRead < reading.bytesTotal, 'aborted mid-read');
  assert.equal(readFileSync(page, 'utf8'), before);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
  // the pool was destroyed before the promise settled: no thread or port is left
  assert.deepEqual(await handlesSettle(handlesBefore), []);
});
