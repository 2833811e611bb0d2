// The run's side of the HTTP load: resolves each `http_load:` block (its origin, an `api:` action),
// starts the load's own thread when the device load starts, merges its deltas into the run's
// aggregator, and stops it in the wind-down after its last delta arrived.

import { Worker } from 'node:worker_threads';
import type { ProgressDisplay } from '../farm/progress.js';
import type { DeltaSink } from '../run/source.js';
import type { StopSignal } from '../run/stop.js';
import type { HttpLoadPlan, HttpRequestSpec, Scenario, Stage } from '../scenario/types.js';
import type { ResolvedHttpLoad } from './engine.js';
import type { FromHttpLoad, HttpLoadInit, ToHttpLoad } from './messages.js';

/** Turns an `api:` action into the requests it sends (the `api:` block's module provides it). */
export type ActionResolver = (action: string) => { origin: string | null; requests: HttpRequestSpec[] };

/** The run's values for `{name}` in requests (the auth token), asked again every second. */
export type RunValues = () => Promise<Record<string, string>>;

/** How often the run's values (a token about to expire) are looked at again. */
const VALUES_EVERY_MS = 1000;

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
  private values: Record<string, string> = {};
  private valuesTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly loads: Array<ResolvedHttpLoad & { startMs: number }>,
    private readonly sink: DeltaSink,
    private readonly progress: ProgressDisplay,
    private readonly stop: StopSignal,
    private readonly runValues: RunValues | null = null,
  ) {}

  /** Takes the run's values (logs in to the API when a block needs its token); call before start. */
  async prepare(): Promise<void> {
    if (this.runValues) this.values = await this.runValues();
  }

  /** Starts the thread; each block begins `startMs` after `loadStartMs`. */
  start(loadStartMs: number): void {
    const init: HttpLoadInit = { loads: this.loads, loadStartMs, values: this.values };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    this.worker = worker;
    if (this.runValues) this.valuesTimer = setInterval(() => void this.refreshValues(), VALUES_EVERY_MS);
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
    if (this.valuesTimer) clearInterval(this.valuesTimer);
    this.valuesTimer = null;
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    worker.postMessage({ type: 'stop' });
    await this.done;
    await worker.terminate();
  }

  /** A changed value (a refreshed token) is sent to the thread; a failed refresh is said once. */
  private refreshFailed = false;
  private async refreshValues(): Promise<void> {
    try {
      const values = await this.runValues!();
      if (Object.entries(values).some(([k, v]) => this.values[k] !== v)) {
        this.values = values;
        this.worker?.postMessage({ type: 'values', values } satisfies ToHttpLoad);
      }
    } catch (error) {
      if (!this.refreshFailed)
        this.progress.log(`http_load: refreshing the API token failed: ${(error as Error).message}`);
      this.refreshFailed = true;
    }
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
  runValues: RunValues | null = null,
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
    runValues,
  );
}
