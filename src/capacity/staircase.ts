// The limit finder's plan in time: the staircase of levels (ramp to each level, hold it), the
// load that plays it, the churn that keeps logins happening during holds, the default service
// levels, and which window of a step each service level is judged on.

import { stagesDurationMs } from '../scenario/stages.js';
import type { CapacityPlan, Load, ScenarioEvent, Stage } from '../scenario/types.js';

/** Service levels judged at each step when the scenario names none (docs/scenarios.md). */
export const DEFAULT_SERVICE_LEVELS: Readonly<Record<string, string>> = {
  login_duration: 'p(99)<1000',
  'logins{result:refused}': 'rate<0.001',
  'logins{result:failed}': 'rate<0.001',
  rpc_errors: 'rate<0.001',
};

/** Service levels of the streams mode when the scenario names none. */
export const STREAM_SERVICE_LEVELS: Readonly<Record<string, string>> = {
  'publishes{result:failed}': 'rate<0.001',
  publish_start_duration: 'p(95)<2000',
  bitrate_achieved_ratio: 'p(5)>0.95',
  rpc_errors: 'rate<0.001',
};

/**
 * Service levels of the viewers mode when the scenario names none: what a viewer notices —
 * startup, delay, freezes (a stall per player in a hold is already too many), failed players.
 */
export const VIEWER_SERVICE_LEVELS: Readonly<Record<string, string>> = {
  viewer_ttff: 'p(95)<3000',
  viewer_delay: 'p(95)<2000',
  viewer_stalls: 'count<1',
  viewer_failures: 'count<1',
};

/** Service levels of the `api_rate` mode when the scenario names none: the API's latency and errors. */
export const API_SERVICE_LEVELS: Readonly<Record<string, string>> = {
  http_duration: 'p(99)<500',
  'http_requests{result:error}': 'rate<0.01',
  'http_requests{result:failed}': 'rate<0.01',
};

/**
 * `standingPushes`: the streams are the devices' own pushes, no platform orders them, so a hold
 * has no RPC to judge `rpc_errors` on.
 */
export function defaultServiceLevels(
  mode: CapacityPlan['mode'],
  { standingPushes = false }: { standingPushes?: boolean } = {},
): Record<string, string> {
  if (mode === 'api_rate') return { ...API_SERVICE_LEVELS };
  if (mode === 'devices') return { ...DEFAULT_SERVICE_LEVELS, keepalive_rtt: 'p(99)<500' };
  if (mode === 'viewers') return { ...VIEWER_SERVICE_LEVELS };
  if (mode !== 'streams') return { ...DEFAULT_SERVICE_LEVELS };
  const { rpc_errors: _ordersOnly, ...withoutOrders } = STREAM_SERVICE_LEVELS;
  return standingPushes ? withoutOrders : { ...STREAM_SERVICE_LEVELS };
}

/** Devices mode: share of the devices online that reconnect per second during each hold. */
export const DEFAULT_CHURN = 0.01;

/** What a level counts: devices, streams, logins/s or players. */
export function capacityUnit(plan: Pick<CapacityPlan, 'mode'>): string {
  return {
    devices: 'devices',
    streams: 'streams',
    login_rate: 'logins/s',
    viewers: 'viewers',
    api_rate: 'requests/s',
  }[plan.mode];
}

/** Number of steps of a capacity plan. */
export function capacitySteps(plan: CapacityPlan): number {
  return Math.floor((plan.max - plan.start) / plan.step + 1e-9) + 1;
}

export function stepLevel(plan: CapacityPlan, k: number): number {
  return plan.start + k * plan.step;
}

/** Step k in ms since the staircase started: its ramp [rampFrom, holdFrom), its hold [holdFrom, holdTo). */
export function stepTimes(
  plan: CapacityPlan,
  k: number,
): { rampFrom: number; holdFrom: number; holdTo: number } {
  const rampFrom = k * (plan.rampMs + plan.holdMs);
  return { rampFrom, holdFrom: rampFrom + plan.rampMs, holdTo: rampFrom + plan.rampMs + plan.holdMs };
}

/** The staircase of levels: ramp to each level over `rampMs`, hold it for `holdMs`. */
export function capacityStages(plan: CapacityPlan): Stage[] {
  const stages: Stage[] = [];
  for (let k = 0; k < capacitySteps(plan); k++) {
    const level = stepLevel(plan, k);
    stages.push({ durationMs: plan.rampMs, target: level }, { durationMs: plan.holdMs, target: level });
  }
  return stages;
}

/**
 * The device load of a capacity plan: the staircase itself (devices, login rate; streams by
 * standing pushes, in devices), or in streams, viewers and api_rate modes every device online from
 * the first ramp while the platform's orders (the players, src/run/viewers.ts; the HTTP load's
 * request rate) climb the staircase.
 */
export function capacityLoad(plan: CapacityPlan, deviceCount = 0): Load {
  const stages = capacityStages(plan);
  if (plan.mode === 'login_rate') return { model: 'open', startRate: 0, stages };
  if (plan.mode === 'devices') return { model: 'closed', stages };
  const perDevice = plan.streamsPerDevice;
  if (plan.mode === 'streams' && perDevice !== null) {
    // Standing pushes: a device pushes from its login on, so the devices climb the staircase.
    return {
      model: 'closed',
      stages: stages.map((s) => ({ ...s, target: Math.ceil(s.target / perDevice) })),
    };
  }
  const totalMs = stagesDurationMs(stages);
  return {
    model: 'closed',
    stages: [
      { durationMs: plan.rampMs, target: deviceCount },
      { durationMs: totalMs - plan.rampMs, target: deviceCount },
    ],
  };
}

/**
 * Devices mode: a disconnect storm spread over each hold, the devices logging in again at once,
 * so that every level has logins of its own to judge (login latency and results). The last
 * reconnect is due a second before the hold ends, so it is judged with its step.
 */
export function churnEvents(plan: CapacityPlan): ScenarioEvent[] {
  if (plan.mode !== 'devices' || plan.churn <= 0) return [];
  const overMs = Math.max(0, plan.holdMs - 1000);
  const fraction = Math.min(1, (plan.churn * Math.max(overMs, 1000)) / 1000);
  return Array.from({ length: capacitySteps(plan) }, (_, k) => ({
    action: 'disconnect' as const,
    atMs: stepTimes(plan, k).holdFrom,
    overMs,
    fraction,
    reconnectAfterMs: 0,
  }));
}

/** Where a step's service level is judged: the logins (or publishes) the step itself started, or its hold. */
export type StepWindow = 'ramp+hold' | 'hold';

/** Metrics of the step's arrivals: judged on its ramp and hold; everything else on its hold. */
const ARRIVALS: Record<CapacityPlan['mode'], readonly string[]> = {
  devices: ['logins', 'login_duration'],
  login_rate: ['logins', 'login_duration'],
  streams: ['publishes', 'publish_start_duration'],
  viewers: ['viewer_ttff', 'viewer_failures'],
  api_rate: [],
};

export function serviceLevelWindow(mode: CapacityPlan['mode'], metricName: string): StepWindow {
  return ARRIVALS[mode].includes(metricName) ? 'ramp+hold' : 'hold';
}
