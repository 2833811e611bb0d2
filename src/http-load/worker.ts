// The HTTP load's own thread: autocannon's parsing and timers stay off the run's main thread
// (which merges deltas, closes seconds and keeps the platform's orders on time) and off the
// device workers (whose timing wheel would feel every burst of answers).

import { parentPort, workerData } from 'node:worker_threads';
import { GeneratorHealthSampler } from '../metrics/health.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { startDeltaTicker } from '../metrics/ticker.js';
import { type RunningHttpLoad, runValues, startHttpLoad } from './engine.js';
import type { FromHttpLoad, HttpLoadInit, ToHttpLoad } from './messages.js';

const init = workerData as HttpLoadInit;
Object.assign(runValues, init.values);
const port = parentPort!;
const post = (m: FromHttpLoad) => port.postMessage(m);

const registry = new MetricsRegistry({ source: 'http-load' });
const running = new Set<RunningHttpLoad>();
const health = new GeneratorHealthSampler(registry, { worker: 'http-load' });
const ticker = startDeltaTicker(registry, (delta) => post({ type: 'delta', delta }), {
  beforeTake: () => {
    health.tick();
    for (const r of running) r.tick();
  },
});

let stopping = false;
/** Blocks not started yet: stopping the run resolves them at once. */
const pending = new Map<NodeJS.Timeout, () => void>();
const ended: Array<Promise<void>> = init.loads.map(
  (load) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(
        () => {
          pending.delete(timer);
          const r = startHttpLoad(load, registry);
          running.add(r);
          post({
            type: 'log',
            message: `http_load ${load.name}: ${load.connections} connections to ${load.origin}`,
          });
          void r.ended.then(() => resolve());
        },
        Math.max(0, init.loadStartMs + load.startMs - Date.now()),
      );
      pending.set(timer, resolve);
    }),
);

port.on('message', (m: ToHttpLoad) => {
  if (m.type === 'values') {
    Object.assign(runValues, m.values);
    return;
  }
  if (stopping) return;
  stopping = true;
  for (const [timer, resolve] of pending) {
    clearTimeout(timer);
    resolve();
  }
  pending.clear();
  for (const r of running) void r.stop();
});

async function finish(): Promise<void> {
  await Promise.all(ended);
  // The last partial second, so nothing recorded is lost.
  for (const r of running) r.tick();
  ticker.stop(true);
  health.stop();
  post({ type: 'done' });
  port.close();
}
void finish();
