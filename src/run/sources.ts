// Agents as the run's device source (instead of this process's worker threads): local ones started
// here when one process may not open enough sockets, or remote ones that join (src/agent/).

import { type AgentRunOptions, chooseAgents } from '../agent/choose.js';
import { AgentFleet } from '../agent/fleet.js';
import { AgentHub } from '../agent/hub.js';
import type { WorkerInit } from '../farm/messages.js';
import type { OrderNotice } from '../farm/order-notices.js';
import type { PlannedDevice } from '../farm/plan.js';
import type { ProgressDisplay } from '../farm/progress.js';
import type { Resources } from './resources.js';
import type { DeltaSink, DeviceSource } from './source.js';
import type { StopSignal } from './stop.js';

export type { AgentRunOptions };

export interface Agents {
  hub: AgentHub;
  plan: NonNullable<ReturnType<typeof chooseAgents>>;
}

/**
 * Agents join among the refusals, before anything starts: too few within the join timeout
 * refuse the run. Null when the devices run on this process's threads.
 */
export async function gatherAgents(
  options: AgentRunOptions | undefined,
  planned: number,
  scenario: Parameters<typeof chooseAgents>[2],
  cores: number,
  resources: Resources,
  progress: ProgressDisplay,
  platformHere = scenario.target.kind === 'embedded',
): Promise<Agents | null> {
  const plan = chooseAgents(options, planned, scenario, cores, platformHere);
  if (!plan) return null;
  const hub = resources.add('agents', await AgentHub.open(plan, progress));
  await hub.gather();
  return { hub, plan };
}

/** The gathered agents as the run's device source. */
export function agentSource(
  agents: Agents,
  planned: PlannedDevice[],
  init: (slice: number, devices: PlannedDevice[]) => WorkerInit,
  sink: DeltaSink,
  progress: ProgressDisplay,
  stop: StopSignal,
  abortOnCrash: boolean,
  onNotice?: (notice: OrderNotice) => void,
): DeviceSource {
  return AgentFleet.forPlan(agents.hub, planned, init, sink, progress, stop, {
    ...agents.plan,
    abortOnCrash,
    ...(onNotice ? { onNotice } : {}),
  });
}
