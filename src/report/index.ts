// Entry points for the CLI and the coordinator: `ivtfarm report DIR`, `ivtfarm compare BASE NEW`,
// and `ivtfarm run --baseline BASE` (compare after the run, store it in summary.json, rebuild).

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withBaseline } from '../run/exit-codes.js';
import type { ReportFormat } from '../scenario/types.js';
import {
  type Comparison,
  compareRuns,
  comparisonExitCode,
  DEFAULT_TOLERANCES,
  EXIT_BASELINE_REGRESSION,
  formatComparison,
  loadTolerances,
  readRunSummary,
  type Tolerances,
} from './compare.js';
import { writeHtmlReport } from './html.js';
import { junitUnfinished, writeJunit } from './junit.js';
import type { ReportSummary } from './types.js';

export { BaselineError, type Tolerances } from './compare.js';
export { renderHtmlReport, renderReportInPool, writeHtmlReport } from './html.js';
export { junitXml, writeJunit } from './junit.js';
export type { RenderedReport, RenderProgress } from './render-task.js';
export { RunDirError } from './run-dir.js';
export {
  type Comparison,
  compareRuns,
  EXIT_BASELINE_REGRESSION,
  formatComparison,
  loadTolerances,
  readRunSummary,
};

export interface ReportFiles {
  /** Paths written (null: that format was not asked for). */
  html: string | null;
  junit: string | null;
  /** The comparison shown in the report (new, or the one stored in summary.json). */
  comparison: Comparison | null;
}

/**
 * `ivtfarm report DIR`: (re)writes report.html and junit.xml of a run directory. `formats` is the
 * scenario's `report.formats` (json = summary.json, which the farm itself writes). The page renders
 * in a pool thread; `signal` (Ctrl-C) stops it and nothing is written.
 */
export async function writeRunReports(
  dir: string,
  formats: readonly ReportFormat[] = ['html', 'json', 'junit'],
  signal?: AbortSignal,
): Promise<ReportFiles> {
  const html = formats.includes('html') ? await writeHtmlReport(dir, { signal }) : null;
  let junit: string | null = null;
  let comparison: Comparison | null = null;
  if (existsSync(join(dir, 'summary.json'))) {
    const summary = readRunSummary(dir);
    comparison = summary.baseline ?? null;
    if (formats.includes('junit')) junit = writeJunit({ summary, dir });
  } else if (formats.includes('junit')) {
    junit = join(dir, 'junit.xml');
    const name = dir.split(/[\\/]/).filter(Boolean).pop() ?? 'run';
    writeFileSync(junit, junitUnfinished(name, `${dir} has no summary.json`));
  }
  return { html, junit, comparison };
}

function tolerancesFrom(file: string | undefined): Tolerances {
  return file ? loadTolerances(file) : DEFAULT_TOLERANCES;
}

/** `ivtfarm compare BASE NEW [--tolerances FILE]`: BASE/NEW are run directories or summary.json files. */
export function compareCommand(
  base: string,
  next: string,
  tolerancesFile?: string,
): { comparison: Comparison; text: string; exitCode: number } {
  const comparison = compareRuns(readRunSummary(base), readRunSummary(next), tolerancesFrom(tolerancesFile));
  return { comparison, text: formatComparison(comparison), exitCode: comparisonExitCode(comparison) };
}

/**
 * `ivtfarm run --baseline BASE`: compares the finished run against BASE, stores the comparison as
 * `baseline` in its summary.json, rebuilds report.html and junit.xml, and gives the exit code:
 * the precedence rules are `withBaseline` (run/exit-codes.ts).
 */
export async function applyBaseline(
  runDir: string,
  base: string,
  runExitCode: number,
  tolerancesFile?: string,
  formats?: readonly ReportFormat[],
  signal?: AbortSignal,
): Promise<ReportFiles & { comparison: Comparison; text: string; exitCode: number }> {
  const baseSummary = readRunSummary(base);
  const summaryPath = join(runDir, 'summary.json');
  const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as ReportSummary;
  const comparison = compareRuns(baseSummary, summary, tolerancesFrom(tolerancesFile));
  summary.baseline = comparison;
  const tmp = `${summaryPath}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(summary, null, 2)}\n`);
  renameSync(tmp, summaryPath);
  const files = await writeRunReports(runDir, formats, signal);
  const exitCode = withBaseline(runExitCode, comparisonExitCode(comparison) !== 0);
  return { ...files, comparison, text: formatComparison(comparison), exitCode };
}
