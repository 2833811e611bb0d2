// The run's sources: worker threads, each running a shard of the devices and streaming metric
// deltas into the aggregator. A crashed worker's devices are counted as lost.

import type { FromWorker, ToWorker, WorkerInit } from '../farm/messages.js';
import type { OrderNotice } from '../farm/order-notices.js';
import type { PlannedDevice } from '../farm/plan.js';
import type { ProgressDisplay } from '../farm/progress.js';
import { WorkerPool } from '../farm/worker-pool.js';
import type { DeltaSink, DeviceSource, LostWorker } from './source.js';
import type { StopSignal } from './stop.js';

export type { LostWorker } from './source.js';

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 20_000;

/** Worker w gets devices w, w+n, w+2n…: every worker ramps up at the same pace. */
export function roundRobin(planned: readonly PlannedDevice[], workers: number): PlannedDevice[][] {
  const shares: PlannedDevice[][] = Array.from({ length: workers }, () => []);
  planned.forEach((d, i) => {
    shares[i % workers]?.push(d);
  });
  return shares;
}

/** Waits for `ready`, a stop request, or READY_TIMEOUT_MS, whichever comes first. */
export async function readyOrStopped(ready: Promise<void>, stop: StopSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    ready,
    stop.stopped,
    new Promise((resolve) => {
      timer = setTimeout(resolve, READY_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
}

export class FleetWorkers implements DeviceSource {
  readonly pool = new WorkerPool<ToWorker, FromWorker>(new URL('../farm/worker.js', import.meta.url));
  readonly lost: LostWorker[] = [];
  private readyCount = 0;
  private resolveReady!: () => void;
  private readonly allReady = new Promise<void>((resolve) => {
    this.resolveReady = resolve;
  });

  constructor(
    shares: readonly PlannedDevice[][],
    init: (index: number, devices: PlannedDevice[]) => WorkerInit,
    aggregator: DeltaSink,
    progress: Pick<ProgressDisplay, 'log'>,
    stop: StopSignal,
    abortOnCrash: boolean,
    /** Logins, orders received and streams live, when the run orders through the platform's API. */
    onNotice?: (notice: OrderNotice) => void,
  ) {
    this.pool.on('message', (_index, message) => {
      switch (message.type) {
        case 'notice':
          onNotice?.(message.notice);
          break;
        case 'metrics':
        case 'stopped':
          aggregator.add(message.delta);
          break;
        case 'ready':
          this.readyCount++;
          if (this.readyCount >= this.pool.aliveCount) this.resolveReady();
          break;
      }
    });
    this.pool.on('exit', (exit) => {
      if (!exit.error) return;
      this.lost.push({ worker: exit.index, devices: exit.deviceCount, error: exit.error.message });
      // Its devices are gone: its last gauges (devices online, streams live) must not linger in the sums.
      aggregator.removeSource(`worker-${exit.index}`);
      // A worker that died while loading must not keep the others waiting for it.
      if (this.readyCount >= this.pool.aliveCount) this.resolveReady();
      progress.log(
        `worker ${exit.index} crashed (${exit.error.message}); its ${exit.deviceCount} devices are lost`,
      );
      if (abortOnCrash || this.pool.aliveCount === 0) stop.request('worker_lost', exit.error.message);
    });
    shares.forEach((devices, w) => {
      this.pool.spawn(w, devices.length, init(w, devices));
    });
  }

  get count(): number {
    return this.pool.slots.length;
  }

  post(slice: number, message: ToWorker): void {
    this.pool.post(slice, message);
  }

  broadcast(message: ToWorker): void {
    this.pool.broadcast(message);
  }

  /** Resolves once every worker loaded its code (or died), or the run was asked to stop meanwhile. */
  ready(stop: StopSignal): Promise<void> {
    return readyOrStopped(this.allReady, stop);
  }

  /** Stops every device (the workers send their last deltas), then ends the threads. */
  close(): Promise<void> {
    return this.pool.stop({ type: 'stop' }, STOP_GRACE_MS);
  }
}
