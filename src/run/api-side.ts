// The platform's HTTP API in a run (`api:`): one client on the main thread, its metrics
// (api_duration, api_requests, order_delivery_duration, time_to_live) ticked into the run's
// aggregator, the login checked before anything starts, and — against a remote platform with a
// `platform:` plan — the orders placed through it (api-orders.ts).

import { ApiAuthError, ApiClient } from '../api/client.js';
import { ApiMetrics } from '../api/metrics.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { startDeltaTicker } from '../metrics/ticker.js';
import type { Scenario } from '../scenario/types.js';
import { ApiOrders } from './api-orders.js';
import { ExitCode, RunRefused } from './exit-codes.js';
import type { DeltaSink } from './source.js';

export interface ApiSide {
  client: ApiClient;
  /** The remote platform's orders, when the scenario has `platform:` for a remote target. */
  orders: ApiOrders | null;
  close(): Promise<void>;
}

/** Whether the run orders streams through the API of a remote platform. */
export function ordersThroughApi(scenario: Scenario): boolean {
  return scenario.target.kind === 'remote' && scenario.platform !== null && scenario.api !== null;
}

/**
 * Opens the API client and logs in (a wrong password refuses the run with exit 3, nothing
 * started; the message never holds the password or a token). Null without `api:`.
 */
export async function openApiSide(
  scenario: Scenario,
  aggregator: DeltaSink,
  log: (message: string) => void,
): Promise<ApiSide | null> {
  const plan = scenario.api;
  if (!plan) return null;
  const registry = new MetricsRegistry({ source: 'api' });
  const client = new ApiClient(plan, { observer: new ApiMetrics(registry) });
  if (scenario.checks.preflight) {
    try {
      await client.login();
    } catch (error) {
      await client.close();
      if (!(error instanceof ApiAuthError)) throw error;
      const hint =
        error.status === 401 || error.status === 403
          ? 'check the user and password of api.auth.request against the platform'
          : 'is the platform API running at that address?';
      throw new RunRefused(
        `preflight: ${error.message} — ${hint}. Nothing was started (turn this check off with \`checks: { preflight: false }\`).`,
        ExitCode.PreflightFailed,
      );
    }
  }
  const ticker = startDeltaTicker(registry, (d) => aggregator.add(d));
  const orders = ordersThroughApi(scenario)
    ? new ApiOrders(client, scenario.platform!, registry, scenario.seed, log)
    : null;
  return {
    client,
    orders,
    async close() {
      await orders?.stop();
      ticker.stop(true);
      await client.close();
    },
  };
}
