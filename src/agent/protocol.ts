// The controller ↔ agent messages (JSON text frames over one WebSocket). The agent authenticates
// in the upgrade request (`Authorization: Bearer <token>`), so nothing here carries a secret
// except `init.worker.password`, the devices' login password, which an agent needs to log in.

import type { ToWorker, WorkerInit } from '../farm/messages.js';
import type { OrderNotice } from '../farm/order-notices.js';
import type { HistogramDelta, MetricsDelta } from '../metrics/delta.js';

/** Path of the controller's agent endpoint. */
export const AGENT_PATH = '/agents';

/** WebSocket close codes the controller uses to turn an agent away (the reason says why). */
export const CLOSE_REFUSED = 4001;

/** What the controller hands agent `agent` of `agents`: its slice of the plan and the run's settings. */
export interface AgentInit {
  agent: number;
  agents: number;
  /** As for a worker thread, with `devices` = this agent's slice; the agent deals it to its threads. */
  worker: WorkerInit;
  /** Worker threads to start (null: the agent's own `--workers`, or one per core). */
  workers: number | null;
}

export type ToAgent = { type: 'init'; init: AgentInit } | { type: 'command'; command: ToWorker };

/** A delta as JSON: histogram buckets as a plain array of [index, count, …]. */
export interface WireDelta extends Omit<MetricsDelta, 'histograms'> {
  histograms: Record<string, Omit<HistogramDelta, 'buckets'> & { buckets: number[] }>;
}

export type FromAgent =
  /** First message: which slice the agent asks for (a Kubernetes completion index), if any. */
  | { type: 'hello'; slice: number | null; host: string }
  | { type: 'ready'; devices: number }
  | { type: 'metrics'; delta: WireDelta }
  /** A login, a loss or a stream mark of a device, when the run orders through the platform's API. */
  | { type: 'notice'; notice: OrderNotice }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** One of the agent's worker threads died: its devices are lost. */
  | { type: 'lost'; source: string; devices: number; error: string }
  /** Every device stopped and every last delta was sent. */
  | { type: 'done' };

export function toWire(delta: MetricsDelta): WireDelta {
  const histograms: WireDelta['histograms'] = {};
  for (const [key, h] of Object.entries(delta.histograms))
    histograms[key] = { ...h, buckets: Array.from(h.buckets) };
  return { ...delta, histograms };
}

/**
 * Back to the in-process form. The aggregator validates the result (decodeDelta), so a bad
 * message fails at the boundary; here only the shape needed to rebuild the buckets is checked.
 */
export function fromWire(wire: unknown): MetricsDelta {
  const w = wire as Partial<WireDelta> | null;
  if (typeof w !== 'object' || w === null || typeof w.histograms !== 'object' || w.histograms === null)
    throw new Error('agent sent a metrics message without histograms');
  const histograms: MetricsDelta['histograms'] = {};
  for (const [key, h] of Object.entries(w.histograms)) {
    if (!Array.isArray(h?.buckets) || !h.buckets.every((n) => Number.isInteger(n) && n >= 0))
      throw new Error(`agent sent histogram ${key} without integer buckets`);
    histograms[key] = { ...h, buckets: Uint32Array.from(h.buckets) };
  }
  return { ...(w as WireDelta), histograms };
}

export function parseFromAgent(text: string): FromAgent {
  const message = JSON.parse(text) as FromAgent | null;
  if (typeof message !== 'object' || message === null || typeof message.type !== 'string')
    throw new Error('not an agent message');
  return message;
}
