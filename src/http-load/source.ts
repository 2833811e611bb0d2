// The run's side of the HTTP load: resolves each `http_load:` block (its origin, an `api:` action),
// starts the load's own thread when the device load starts, merges its deltas into the run's
// aggregator, and stops it in the wind-down after its last delta arrived.

import { Worker } from 'node:worker_threads';
import type { ProgressDisplay } from '../farm/progress.js';
import type { DeltaSink } from '../run/source.js';
import type { StopSignal } from '../run/stop.js';
import type { HttpLoadPlan, HttpRequestSpec, Scenario, Stage } from '../scenario/types.js';
import type { ResolvedHttpLoad } from './engine.js';
import type { FromHttpLoad, HttpLoadInit } from './messages.js';

/** Turns an `api:` action into the requests it sends (the `api:` block's module provides it). */
export type ActionResolver = (action: string) => { origin: string | null; requests: HttpRequestSpec[] };

/** The target platform's own HTTP origin: the embedded one's, or the ws(s):// target's host as http(s). */
export function platformOrigin(scenario: Pick<Scenario, 'target'>, embeddedHttpUrl: string | null): string {
  if (scenario.target.kind === 'embedded') {
    if (!embeddedHttpUrl) throw new Error('the embedded platform is not running');
    return new URL(embeddedHttpUrl).origin;
  }
  const u = new URL(scenario.target.url);
  return `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}`;
}

export interface ResolveOptions {
  platformOrigin: string;
  /** The staircase of `capacity: { mode: api_rate }`, for the blocks it steps. */
  capacityStages: Stage[] | null;
  actions?: ActionResolver;
}

export function resolveHttpLoad(
  plan: HttpLoadPlan,
  o: ResolveOptions,
): ResolvedHttpLoad & { startMs: number } {
  let origin = plan.origin;
  let requests: HttpRequestSpec[];
  if (plan.send.kind === 'action') {
    if (!o.actions)
      throw new Error(`http_load ${plan.name}: action "${plan.send.action}" needs an \`api:\` block`);
    const resolved = o.actions(plan.send.action);
    origin ??= resolved.origin;
    requests = resolved.requests;
  } else {
    requests = plan.send.requests;
  }
  const stepped = plan.steppedByCapacity && o.capacityStages;
  return {
    name: plan.name,
    origin: origin ?? o.platformOrigin,
    requests,
    connections: plan.connections,
    rate: stepped ? 0 : plan.rate,
    stages: stepped ? o.capacityStages! : plan.stages,
    durationMs: plan.durationMs,
    timeoutMs: plan.timeoutMs,
    startMs: plan.startMs,
  };
}

export class HttpLoadSource {
  private worker: Worker | null = null;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly loads: Array<ResolvedHttpLoad & { startMs: number }>,
    private readonly sink: DeltaSink,
    private readonly progress: ProgressDisplay,
    private readonly stop: StopSignal,
  ) {}

  /** Starts the thread; each block begins `startMs` after `loadStartMs`. */
  start(loadStartMs: number): void {
    const init: HttpLoadInit = { loads: this.loads, loadStartMs };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    this.worker = worker;
    this.done = new Promise<void>((resolve) => {
      worker.on('message', (m: FromHttpLoad) => {
        if (m.type === 'delta') this.sink.add(m.delta);
        else if (m.type === 'log') this.progress.log(m.message);
        else {
          this.sink.removeSource('http-load');
          resolve();
        }
      });
      worker.on('error', (error) =>
        this.stop.fail(new Error(`the HTTP load thread failed: ${error.message}`)),
      );
      worker.on('exit', () => resolve());
    });
  }

  /** Stops every block; resolves after the last delta was merged and the thread ended. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    worker.postMessage({ type: 'stop' });
    await this.done;
    await worker.terminate();
  }
}

/** The scenario's `http_load:` blocks as a source of the run, or null when it has none. */
export function httpLoadOf(
  scenario: Pick<Scenario, 'target' | 'httpLoad' | 'capacity'>,
  embeddedHttpUrl: string | null,
  capacityStages: Stage[] | null,
  sink: DeltaSink,
  progress: ProgressDisplay,
  stop: StopSignal,
  actions?: ActionResolver,
): HttpLoadSource | null {
  if (scenario.httpLoad.length === 0) return null;
  const options: ResolveOptions = {
    platformOrigin: platformOrigin(scenario, embeddedHttpUrl),
    capacityStages: scenario.capacity?.mode === 'api_rate' ? capacityStages : null,
    ...(actions ? { actions } : {}),
  };
  return new HttpLoadSource(
    scenario.httpLoad.map((plan) => resolveHttpLoad(plan, options)),
    sink,
    progress,
    stop,
  );
}
