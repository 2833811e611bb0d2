/**
 * Viewer thread entry: runs a share of the run's players on its own event loop, apart from the
 * devices' threads and the coordinator, and ships metric deltas once a second like a farm worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { within } from '../farm/within.js';
import { GeneratorHealthSampler } from '../metrics/health.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { startDeltaTicker } from '../metrics/ticker.js';
import { viewerMetricsObserver } from './metrics.js';
import { ViewerSession } from './session.js';
import type { ViewerObserver, ViewerProtocol } from './types.js';
import type { FromViewerWorker, ToViewerWorker, ViewerWorkerInit } from './worker-messages.js';

const STOP_WITHIN_MS = 5000;

const init = workerData as ViewerWorkerInit;
const port = parentPort!;
const post = (message: FromViewerWorker) => port.postMessage(message);
const label = `viewers-${init.workerIndex}`;

const registry = new MetricsRegistry({ source: label });
const health = new GeneratorHealthSampler(registry, { worker: label });
/** One observer per protocol: its handles resolved once for every player of the thread. */
const observers = new Map<ViewerProtocol, ViewerObserver>();
const observerOf = (p: ViewerProtocol) =>
  observers.get(p) ?? observers.set(p, viewerMetricsObserver(registry, p)).get(p)!;

// Sessions are built when the ramp first reaches them.
const sessions = init.groups.map((g) => new Array<ViewerSession | undefined>(g.urls.length));
const running = init.groups.map(() => 0);
let stopping = false;

function session(g: number, i: number): ViewerSession {
  const list = sessions[g]!;
  let s = list[i];
  if (!s) {
    const group = init.groups[g]!;
    s = new ViewerSession({
      url: group.urls[i]!,
      protocol: group.protocol,
      observer: observerOf(group.protocol),
      bufferMs: group.bufferMs,
      firstFrameTimeoutMs: group.firstFrameTimeoutMs,
      liveEdgeSegments: group.liveEdgeSegments,
    });
    list[i] = s;
  }
  return s;
}

function setRunning(g: number, target: number): void {
  const n = Math.max(0, Math.min(init.groups[g]!.urls.length, Math.floor(target)));
  while (running[g]! < n) session(g, running[g]!++).start();
  while (running[g]! > n) void sessions[g]![--running[g]!]?.stop();
}

const ticker = startDeltaTicker(registry, (delta) => post({ type: 'metrics', delta }), {
  beforeTake: () => health.tick(),
});

async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const stops = sessions.flatMap((list) => list.flatMap((s) => (s ? [s.stop()] : [])));
  await within(Promise.all(stops), STOP_WITHIN_MS);
  ticker.stop(false);
  health.tick();
  post({ type: 'stopped', delta: registry.takeDelta() });
  health.stop();
  port.close();
}

port.on('message', (message: ToViewerWorker) => {
  if (stopping) return;
  if (message.type === 'stop') {
    void stopAll();
    return;
  }
  message.running.forEach((n, g) => {
    setRunning(g, n);
  });
});

post({ type: 'ready' });

if (init.crashAfterMs !== undefined) {
  setTimeout(() => {
    throw new Error('injected viewer thread crash');
  }, init.crashAfterMs);
}
