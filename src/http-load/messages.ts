// What the HTTP load thread and the run say to each other (structured-cloned plain data).

import type { MetricsDelta } from '../metrics/delta.js';
import type { ResolvedHttpLoad } from './engine.js';

export interface HttpLoadInit {
  /** Each block with its start, in ms after `loadStartMs`. */
  loads: Array<ResolvedHttpLoad & { startMs: number }>;
  /** Epoch ms the run's load started. */
  loadStartMs: number;
  /** Values of the whole run for `{name}` in requests (the auth token), before the first request. */
  values: Record<string, string>;
}

export type ToHttpLoad = { type: 'stop' } | { type: 'values'; values: Record<string, string> };

export type FromHttpLoad =
  | { type: 'delta'; delta: MetricsDelta }
  /** Every block ended and the last delta was posted. */
  | { type: 'done' }
  | { type: 'log'; message: string };
