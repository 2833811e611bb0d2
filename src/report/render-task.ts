// piscina task (src/core/cpu-pool.ts): renders one report.html. A 1-hour run's time series is
// 100 MB or more of JSON lines: reading it here keeps the main thread free, and aborting the task
// terminates this thread. The file is written under a temporary name and renamed, so a stopped
// render never leaves half a page.
import { renameSync, writeFileSync } from 'node:fs';
import { type MessagePort, threadId } from 'node:worker_threads';
import type { Tolerances } from './compare.js';
import { renderHtmlReport } from './html.js';
import type { ReadProgress } from './run-dir.js';
import type { ReportSummary } from './types.js';

export interface RenderTask {
  runDir: string;
  out: string;
  baseline: ReportSummary | undefined;
  tolerances: Tolerances | undefined;
  /** Where progress goes (transferred with the task), or null. */
  progress: MessagePort | null;
}

export interface RenderProgress extends ReadProgress {
  /** The pool thread rendering the report. */
  threadId: number;
}

export interface RenderedReport {
  path: string;
  bytes: number;
  /** The pool thread that rendered it. */
  threadId: number;
}

export default async function renderReport(task: RenderTask): Promise<RenderedReport> {
  const { progress } = task;
  try {
    const html = await renderHtmlReport(
      task.runDir,
      { baseline: task.baseline, tolerances: task.tolerances },
      progress ? (p) => progress.postMessage({ ...p, threadId } satisfies RenderProgress) : undefined,
    );
    const tmp = `${task.out}.tmp`;
    writeFileSync(tmp, html);
    renameSync(tmp, task.out);
    return { path: task.out, bytes: Buffer.byteLength(html), threadId };
  } finally {
    progress?.close();
  }
}
