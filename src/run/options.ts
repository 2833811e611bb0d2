// What a caller hands `runScenario` and what it gets back.

import type { RunSummary } from '../core/summary-types.js';
import type { WorkerInit } from '../farm/messages.js';
import type { Shard } from '../farm/plan.js';
import type { ProgressDisplay } from '../farm/progress.js';
import type { RunObserver } from './observer.js';
import type { AgentRunOptions } from './sources.js';

export interface RunOptions {
  /** Live display and log lines (stderr). */
  progress: ProgressDisplay;
  /** Cut the run into shards (`--shard i/n`): this process runs one deterministic slice. */
  shard?: Shard;
  /** Serve Prometheus text on this port (127.0.0.1). */
  metricsPort?: number;
  /** Overrides the scenario's output directory. */
  outputDir?: string;
  /** Device timing overrides (tests). */
  deviceTimings?: WorkerInit['timings'];
  /** Resolves when the run should stop early (Ctrl-C). */
  interrupt?: Promise<string>;
  /** Test fault injection: these workers crash after the given ms. */
  crashWorkers?: Record<number, number>;
  /** Test fault injection: these viewer threads crash after the given ms. */
  crashViewerThreads?: Record<number, number>;
  /** What to do when a worker dies: keep going with the others (default) or stop the run. */
  onWorkerCrash?: 'continue' | 'abort';
  /** More outputs, after the built-in ones (each sees every closed second). */
  observers?: RunObserver[];
  /** Devices in agent processes: remote ones that join, or local ones started here. */
  agents?: AgentRunOptions;
  /** Processes of the embedded platform (`--platform-processes`; default: platform.ts embeddedProcesses). */
  platformProcesses?: number;
}

export interface RunResult {
  exitCode: number;
  dir: string;
  summaryPath: string;
  summary: RunSummary;
}
