// Drives a worker's once-a-second delta: ticks aligned to wall-clock seconds (plus a small offset)
// so each delta covers one calendar second and the aggregator's buckets line up across workers.

import type { MetricsDelta } from './delta.js';
import type { MetricsRegistry } from './registry.js';

export interface DeltaTickerOptions {
  /** Milliseconds after each full second to take the delta (default 5). */
  offsetMs?: number;
  /** Called just before each delta (e.g. GeneratorHealthSampler.tick). */
  beforeTake?: () => void;
}

export interface DeltaTicker {
  /** Stops ticking; with flush, posts a last delta so nothing recorded is lost. */
  stop(flush?: boolean): void;
}

export function startDeltaTicker(
  registry: MetricsRegistry,
  post: (delta: MetricsDelta) => void,
  opts: DeltaTickerOptions = {},
): DeltaTicker {
  const offset = opts.offsetMs ?? 5;
  let timer: NodeJS.Timeout | null = null;
  const take = () => {
    opts.beforeTake?.();
    post(registry.takeDelta());
  };
  const schedule = () => {
    const now = Date.now();
    timer = setTimeout(
      () => {
        take();
        schedule();
      },
      1000 - (now % 1000) + offset,
    );
    // The ticker alone must not keep a finished worker alive.
    timer.unref();
  };
  schedule();
  return {
    stop(flush = false) {
      if (timer) clearTimeout(timer);
      timer = null;
      if (flush) take();
    },
  };
}
