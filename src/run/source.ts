// Where the devices run: worker threads in this process (workers.ts) or agent processes
// (src/agent/fleet.ts). The load shape, the wind-down and the verdict see only this interface.

import type { ToWorker } from '../farm/messages.js';
import type { MetricsDelta } from '../metrics/delta.js';
import type { StopSignal } from './stop.js';

/** Devices lost with a worker thread or an agent that died. */
export interface LostWorker {
  worker: number;
  devices: number;
  error: string;
  /** Who died, for messages ("agent 2"); "worker N" when absent. */
  who?: string;
}

export interface DeviceSource {
  /** Slices of this process's plan: slice s runs devices s, s + count, s + 2·count… */
  readonly count: number;
  readonly lost: LostWorker[];
  post(slice: number, message: ToWorker): void;
  broadcast(message: ToWorker): void;
  /** Resolves once every slice can take load (or died), or the run was asked to stop meanwhile. */
  ready(stop: StopSignal): Promise<void>;
  /** Stops every device (their last deltas arrive first), then ends the slices. */
  close(): Promise<void>;
}

/** Where a source's metric deltas go: the run's aggregator, or an agent's link to its controller. */
export interface DeltaSink {
  add(delta: MetricsDelta): void;
  /** Forgets a source's gauges (its devices are gone). */
  removeSource(source: string): void;
}
