// Reads a run directory as the report needs it. Only timeseries.jsonl is required: a crashed run
// has no summary.json, a hand-copied one may miss scenario.json; what is missing is said, not fatal.

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SUMMARY_SCHEMA } from '../core/summary-types.js';
import { fromJsonLine, type SecondSample } from '../metrics/aggregator.js';
import type { ReportSummary } from './types.js';

export interface RunFiles {
  dir: string;
  summary: ReportSummary | null;
  /** The scenario as run (secrets masked by the farm); shape kept loose: it is only displayed. */
  scenario: Record<string, unknown> | null;
  /** Why something is missing or was skipped, for the report's notes. */
  notes: string[];
}

export class RunDirError extends Error {
  override name = 'RunDirError';
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Throws RunDirError unless `dir` holds a time series or a summary (checked before any thread starts). */
export function assertRunDir(dir: string): void {
  if (!existsSync(join(dir, 'timeseries.jsonl')) && !existsSync(join(dir, 'summary.json')))
    throw new RunDirError(`${dir}: not a run directory (no timeseries.jsonl nor summary.json)`);
}

/** summary.json and scenario.json, parsed; the time series is streamed by eachSample. */
export function readRunFiles(dir: string): RunFiles {
  assertRunDir(dir);
  const notes: string[] = [];
  let summary: ReportSummary | null = null;
  const summaryPath = join(dir, 'summary.json');
  if (!existsSync(summaryPath)) {
    notes.push('no summary: the run did not finish (figures below come from the per-second time series)');
  } else {
    try {
      const s = readJson(summaryPath) as ReportSummary;
      if (s?.schema === SUMMARY_SCHEMA) summary = s;
      else notes.push(`summary.json ignored: schema ${JSON.stringify(s?.schema)} is not ${SUMMARY_SCHEMA}`);
    } catch {
      notes.push('summary.json ignored: not valid JSON (the run did not finish writing it)');
    }
  }
  let scenario: Record<string, unknown> | null = null;
  const scenarioPath = join(dir, 'scenario.json');
  if (existsSync(scenarioPath)) {
    try {
      const s = readJson(scenarioPath);
      if (typeof s === 'object' && s !== null && !Array.isArray(s)) scenario = s as Record<string, unknown>;
    } catch {
      notes.push('scenario.json ignored: not valid JSON');
    }
  } else notes.push('no scenario.json in the run directory');
  return { dir, summary, scenario, notes };
}

/** How far the time series has been read. */
export interface ReadProgress {
  bytesRead: number;
  bytesTotal: number;
}

const PROGRESS_STEP_BYTES = 4 << 20;

/**
 * Calls `onSample` for every line of timeseries.jsonl in order, streaming (a long run's file can be
 * large). A torn last line (crash mid-write) or a garbled one is skipped and counted. `onProgress`
 * is told every 4 MB read.
 */
export async function eachSample(
  dir: string,
  onSample: (s: SecondSample) => void,
  onProgress?: (p: ReadProgress) => void,
): Promise<{ lines: number; bad: number }> {
  const path = join(dir, 'timeseries.jsonl');
  if (!existsSync(path)) return { lines: 0, bad: 0 };
  const input = createReadStream(path, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const bytesTotal = statSync(path).size;
  let told = 0;
  let lines = 0;
  let bad = 0;
  for await (const line of rl) {
    if (onProgress && input.bytesRead - told >= PROGRESS_STEP_BYTES) {
      told = input.bytesRead;
      onProgress({ bytesRead: told, bytesTotal });
    }
    if (line.trim() === '') continue;
    let sample: SecondSample;
    try {
      sample = fromJsonLine(line);
    } catch {
      bad++;
      continue;
    }
    lines++;
    onSample(sample);
  }
  return { lines, bad };
}
