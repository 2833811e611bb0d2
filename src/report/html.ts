// `report.html`: one self-contained file (uPlot's JS and CSS and all data inlined, no network) built
// from a run directory. Text sections are rendered here with the escape helper; charts are drawn
// in the browser from a JSON data block (see client.ts). `writeHtmlReport` renders in a pool task
// (render-task.ts): a long run's series takes seconds to read, and Ctrl-C must be able to stop it.

import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { runCpuTask } from '../core/cpu-pool.js';
import { CLIENT_JS, REPORT_CSS } from './client.js';
import { type Comparison, compareRuns, type Tolerances } from './compare.js';
import { esc, jsonForScript } from './escape.js';
import type { RenderedReport, RenderProgress, RenderTask } from './render-task.js';
import { assertRunDir, eachSample, type ReadProgress, readRunFiles } from './run-dir.js';
import {
  baselineSection,
  capacitySection,
  chartsSection,
  environmentSection,
  errorsSection,
  generatorSection,
  headerSection,
  percentilesSection,
  reportTitle,
  type SectionInput,
  scenarioSection,
  thresholdsSection,
} from './sections.js';
import { buildCharts, type Chart, capacityChart, SeriesCollector } from './series.js';
import type { ReportSummary } from './types.js';

export interface HtmlReportOptions {
  /** Compare against this run (its summary); else the summary's own `baseline` section is shown. */
  baseline?: ReportSummary;
  tolerances?: Tolerances;
  /** Output file (default `<runDir>/report.html`). */
  out?: string;
}

export interface WriteReportOptions extends HtmlReportOptions {
  /** Stops the rendering (its thread is terminated); the report file is then left as it was. */
  signal?: AbortSignal;
  /** How far the time series has been read, from the rendering thread. */
  onProgress?: (progress: RenderProgress) => void;
}

export interface ReportData {
  schema: 'ivtfarm.report/1';
  /** Epoch second the time axes count from (shown as mm:ss since start); null without any time. */
  t0: number | null;
  charts: Chart[];
}

let assets: { js: string; css: string } | null = null;

function uplotAssets(): { js: string; css: string } {
  if (!assets) {
    const require = createRequire(import.meta.url);
    assets = {
      // A script body must not contain `</script`; uPlot's does not, the replace keeps it so.
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8').replace(
        /<\/script/gi,
        '<\\/script',
      ),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return assets;
}

/** The whole page as a string (also used by tests and `bench/report-size.ts`). */
export async function renderHtmlReport(
  runDir: string,
  options: HtmlReportOptions = {},
  onProgress?: (progress: ReadProgress) => void,
): Promise<string> {
  const files = readRunFiles(runDir);
  const collector = new SeriesCollector();
  const read = await eachSample(runDir, (s) => collector.add(s), onProgress);
  const notes = [...files.notes];
  if (read.bad > 0)
    notes.push(`${read.bad} unreadable line(s) of timeseries.jsonl skipped (a crash can tear the last one)`);
  if (read.lines === 0) notes.push('no per-second samples: timeseries.jsonl is missing or empty');
  if (collector.skippedSeries > 0)
    notes.push(
      `${collector.skippedSeries} series left out of the charts (too many label values for one report)`,
    );

  const summary = files.summary;
  const media =
    files.scenario && typeof files.scenario.media === 'object'
      ? (files.scenario.media as Record<string, number>)
      : null;
  const charts = buildCharts(collector, media);
  const cap = summary?.capacity ? capacityChart(summary.capacity) : null;
  if (cap) charts.unshift(cap);

  const comparison: Comparison | null =
    options.baseline && summary
      ? compareRuns(options.baseline, summary, options.tolerances)
      : (summary?.baseline ?? null);
  const input: SectionInput = {
    dir: runDir,
    summary,
    scenario: files.scenario,
    notes,
    counters: summary?.metrics.counters ?? Object.fromEntries(collector.counterTotals),
    secondsHistograms: collector.histogramTotals(),
    firstSecond: collector.t[0] ?? null,
    lastSecond: collector.t[collector.t.length - 1] ?? null,
    comparison,
    hasCharts: {
      capacity: cap !== null,
      load: charts.some((c) => c.section === 'load'),
      generator: charts.some((c) => c.section === 'generator'),
    },
  };
  const started = summary ? Math.floor(Date.parse(summary.run.started_at) / 1000) : Number.NaN;
  const t0 =
    collector.t[0] ?? (Number.isNaN(started) ? (summary?.capacity?.steps[0]?.ramp?.from ?? null) : started);
  const data: ReportData = { schema: 'ivtfarm.report/1', t0, charts };
  const title = `ivtfarm report: ${reportTitle(summary, files.scenario)}`;
  const { js, css } = uplotAssets();
  const body = [
    headerSection(input),
    thresholdsSection(input),
    capacitySection(summary?.capacity, input.hasCharts.capacity),
    baselineSection(comparison),
    chartsSection('load', 'Over time', input.hasCharts.load),
    percentilesSection(input),
    errorsSection(input),
    generatorSection(input),
    scenarioSection(input),
    environmentSection(input),
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${css}</style><style>${REPORT_CSS}</style></head>
<body><main>
${body}
</main>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${js}</script>
<script>${CLIENT_JS}</script>
</body></html>
`;
}

/** Renders and writes the report in a pool thread; says which thread and how many bytes. */
export async function renderReportInPool(
  runDir: string,
  options: WriteReportOptions = {},
): Promise<RenderedReport> {
  assertRunDir(runDir); // a user error stays a RunDirError: errors from a thread lose their class
  const out = options.out ?? join(runDir, 'report.html');
  const { port1, port2 } = new MessageChannel();
  const { onProgress } = options;
  if (onProgress) port1.on('message', (p: RenderProgress) => onProgress(p));
  const task: RenderTask = {
    runDir,
    out,
    baseline: options.baseline,
    tolerances: options.tolerances,
    progress: onProgress ? port2 : null,
  };
  try {
    return await runCpuTask<RenderTask, RenderedReport>(new URL('./render-task.js', import.meta.url), task, {
      signal: options.signal,
      transferList: onProgress ? [port2] : [],
    });
  } catch (err) {
    rmSync(`${out}.tmp`, { force: true }); // a thread stopped between writing and renaming
    throw err;
  } finally {
    port1.close();
    port2.close();
  }
}

/** Writes `report.html` into the run directory (or `options.out`) and returns its path. */
export async function writeHtmlReport(runDir: string, options: WriteReportOptions = {}): Promise<string> {
  return (await renderReportInPool(runDir, options)).path;
}
