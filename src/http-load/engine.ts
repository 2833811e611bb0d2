// One `http_load:` block run by autocannon. autocannon's own histograms arrive only at the end;
// the run needs every second, so each answer (`response`) and each failure (`reqError`) is
// recorded into the thread's metric registry as it happens, and the registry's once-a-second
// delta carries them into the run's aggregator like any worker's.

import autocannon from 'autocannon';
import { parseJsonPath } from '../api/capture.js';
import type {
  CounterHandle,
  Family,
  GaugeHandle,
  HistogramHandle,
  MetricsRegistry,
} from '../metrics/registry.js';
import { targetAt } from '../scenario/stages.js';
import type { HttpRequestSpec, Stage } from '../scenario/types.js';
import { capture, fill, placeholders } from './capture.js';
import { failureStatus, resultOf } from './outcome.js';
import { RateControl, startRateFor } from './rate-control.js';

/** A block ready to run: its origin known and its requests resolved (an `api:` action included). */
export interface ResolvedHttpLoad {
  name: string;
  origin: string;
  requests: HttpRequestSpec[];
  connections: number;
  /** Requests/s at the start; null: no limit. */
  rate: number | null;
  stages: Stage[];
  durationMs: number;
  timeoutMs: number;
}

const CONTROL_MS = 200;

class LoadMetrics {
  private readonly requests: Family<CounterHandle>;
  private readonly duration: HistogramHandle;
  private readonly achieved: GaugeHandle;
  readonly target: GaugeHandle;
  private inSecond = 0;

  constructor(
    registry: MetricsRegistry,
    private readonly name: string,
  ) {
    this.requests = registry.counterFamily('http_requests', ['load', 'result', 'status']);
    this.duration = registry.histogram('http_duration', { load: name });
    this.achieved = registry.gauge('http_rate', { load: name });
    this.target = registry.gauge('http_rate_target', { load: name });
  }

  answered(status: number, ms: number): void {
    this.requests.get(this.name, resultOf(status), status).add();
    this.duration.record(ms);
    this.inSecond++;
  }

  failed(error: unknown): void {
    this.requests.get(this.name, 'failed', failureStatus(error)).add();
    this.inSecond++;
  }

  /** Once a second, before the delta: requests completed in the second that ended. */
  tick(): void {
    this.achieved.set(this.inSecond);
    this.inSecond = 0;
  }
}

export interface RunningHttpLoad {
  readonly name: string;
  /** Once a second, just before the registry's delta. */
  tick(): void;
  /** Stops sending; resolves when autocannon ended (its last answers recorded). */
  stop(): Promise<void>;
  /** Resolves when the block ended by itself (its duration) or was stopped. */
  readonly ended: Promise<void>;
}

/** Captured values of one connection's pass through the sequence (autocannon's per-client context). */
type Captured = Record<string, string>;

/**
 * One request of the sequence as autocannon takes it. A request that captures reads its answer
 * (`onResponse`); one that uses a capture is rebuilt from the connection's captured values before
 * it is sent (`setupRequest`), or, when a capture is missing (the login failed), the connection
 * starts the sequence over (autocannon's answer to a falsy request), as a user logs in again.
 */
/**
 * Values of the whole run (the `api:` auth token as `{token}`), set by the run and refreshed while
 * the load goes; a connection's own captures win over them.
 */
export const runValues: Record<string, string> = {};

export function requestOptions(r: HttpRequestSpec, capturedBefore: ReadonlySet<string>): autocannon.Request {
  const request: autocannon.Request = {
    method: r.method as autocannon.Request['method'],
    path: r.path,
    headers: r.headers,
    ...(r.body !== null ? { body: r.body } : {}),
  };
  // Paths parsed once here, not on every answer.
  const captures = Object.entries(r.capture).map(([name, path]) => [name, parseJsonPath(path)] as const);
  if (captures.length > 0) {
    request.onResponse = (_status: number, body: string, context: object) => {
      const values = context as Captured;
      for (const [name, path] of captures) {
        const value = capture(body, path);
        if (value !== null) values[name] = value;
      }
    };
  }
  const texts = [r.path, r.body ?? '', ...Object.values(r.headers)];
  const uses = new Set(
    texts.flatMap(placeholders).filter((n) => capturedBefore.has(n) || runValues[n] !== undefined),
  );
  if (uses.size > 0) {
    request.setupRequest = (req: autocannon.Request, context: object) => {
      const values = context as Captured;
      // A falsy request (typed as a Request by @types/autocannon) starts the sequence over.
      for (const name of uses)
        if (values[name] === undefined && runValues[name] === undefined)
          return null as unknown as autocannon.Request;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers)) headers[k] = fill(v, values, runValues);
      return {
        ...req,
        path: fill(r.path, values, runValues),
        headers,
        ...(r.body !== null ? { body: fill(r.body, values, runValues) } : {}),
      };
    };
  }
  return request;
}

/** The sequence as autocannon's `requests`: each request knows what the ones before it captured. */
function sequenceOptions(requests: readonly HttpRequestSpec[]): autocannon.Request[] {
  const captured = new Set<string>();
  return requests.map((r) => {
    const options = requestOptions(r, captured);
    for (const name of Object.keys(r.capture)) captured.add(name);
    return options;
  });
}

/** Starts one block now; its stages count from now. */
export function startHttpLoad(load: ResolvedHttpLoad, registry: MetricsRegistry): RunningHttpLoad {
  const metrics = new LoadMetrics(registry, load.name);
  const limited = load.rate !== null || load.stages.length > 0;
  const rateAt = (ms: number) => targetAt(load.stages, ms, load.rate ?? 0);
  const control = new RateControl(limited ? rateAt(0) : null);
  const t0 = performance.now();
  let finish: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const instance = autocannon(
    {
      url: load.origin,
      connections: load.connections,
      // The block ends when this module says so; autocannon's own clock is only a backstop.
      duration: Math.ceil(load.durationMs / 1000) + 5,
      timeout: Math.max(1, load.timeoutMs / 1000),
      requests: sequenceOptions(load.requests),
      setupClient: control.adopt,
      // Our histogram records each answer as it came; autocannon's own correction would divide by
      // the shares RateControl sets (and a paused share of -1 breaks it).
      ...(limited ? { overallRate: startRateFor(load.connections), ignoreCoordinatedOmission: true } : {}),
      excludeErrorStats: false,
    },
    () => finish(),
  );
  instance.on('response', (_client, status: number, _bytes: number, ms: number) =>
    metrics.answered(status, ms),
  );
  instance.on('reqError', (error: unknown) => metrics.failed(error));
  metrics.target.set(Math.round(control.rate));
  const timer = setInterval(() => {
    const elapsed = performance.now() - t0;
    if (elapsed >= load.durationMs) {
      void stop();
      return;
    }
    if (limited) {
      control.set(rateAt(elapsed));
      control.holdIdle();
      metrics.target.set(Math.round(control.rate));
    }
  }, CONTROL_MS);
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(timer);
      if (limited) control.pause();
      metrics.target.set(0);
      instance.stop();
      await ended;
    })();
    return stopping;
  };
  return { name: load.name, tick: () => metrics.tick(), stop, ended };
}
