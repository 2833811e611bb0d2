import type { CounterHandle, Family, HistogramHandle, MetricsRegistry } from '../metrics/registry.js';

/** Where an API call's outcome goes: latency per action, count per action and status. */
export interface ApiObserver {
  /** `status`: the HTTP status, or `timeout` / `error` (no answer). */
  requestDone(action: string, status: number | 'timeout' | 'error', ms: number): void;
}

/** `api_duration{action}` and `api_requests{action,status}` in a registry (worker or main thread). */
export class ApiMetrics implements ApiObserver {
  private readonly duration: Family<HistogramHandle>;
  private readonly requests: Family<CounterHandle>;

  constructor(registry: MetricsRegistry) {
    this.duration = registry.histogramFamily('api_duration', ['action']);
    this.requests = registry.counterFamily('api_requests', ['action', 'status']);
  }

  requestDone(action: string, status: number | 'timeout' | 'error', ms: number): void {
    // Latency of answers only: a timeout's "duration" is the timeout itself.
    if (typeof status === 'number') this.duration.get(action).record(ms);
    this.requests.get(action, String(status)).add(1);
  }
}
