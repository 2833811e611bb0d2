// What the run's viewer threads (src/viewer/worker.ts) are told and answer; src/run/viewers.ts drives them.
import type { MetricsDelta } from '../metrics/delta.js';
import type { ViewerProtocol } from './types.js';

/** One `viewers:` group as a thread runs it: its share of the players, in ramp order. */
export interface ViewerThreadGroup {
  protocol: ViewerProtocol;
  urls: string[];
  bufferMs: number;
  firstFrameTimeoutMs: number;
  liveEdgeSegments: number;
}

/** Structured-cloned once at spawn. */
export interface ViewerWorkerInit {
  workerIndex: number;
  groups: ViewerThreadGroup[];
  /** Test fault injection: the thread crashes this many ms after it started. */
  crashAfterMs?: number;
}

export type ToViewerWorker =
  /** Keep the first `running[g]` players of each group playing (up or down). */
  | { type: 'target'; running: number[] }
  /** Stop every player (ongoing stalls are counted), send the last delta, exit. */
  | { type: 'stop' };

export type FromViewerWorker =
  | { type: 'ready' }
  | { type: 'metrics'; delta: MetricsDelta }
  | { type: 'stopped'; delta: MetricsDelta };
