// Whether a run's devices go to agent processes, and which: remote agents that join a listening
// controller, or local agents started here because one process may not open enough sockets.

import { randomBytes } from 'node:crypto';
import type { PlannedDevice } from '../farm/plan.js';
import type { Scenario } from '../scenario/types.js';
import type { AgentPlan } from './hub.js';

/** Device sockets (WebSockets and standing pushes) one process may hold: 20,000 open files here, less room for orders, uploads and files. */
export const DEFAULT_DEVICES_PER_PROCESS = 15_000;
/**
 * Connections per source address. A socket given a source address binds before it connects, and
 * bind picks its port among the address's ports free towards every target (28,232 here), trying
 * odd ports first: its kernel time per socket grows with the ports taken — 0.05 ms up to 7,000
 * sockets on one address, ~1 ms from 8,000, 2–3 ms from 15,000 (bench/bind-scan.ts, docs/distributed.md).
 */
export const DEVICES_PER_SOURCE_ADDRESS = 5_000;

export interface AgentRunOptions {
  /** `--listen HOST:PORT --expect-agents N`: wait for N remote agents. */
  listen?: { host: string; port: number; expect: number; token: string };
  /** `--agents N`: start N local agents (0: never, whatever the size). */
  localAgents?: number;
  devicesPerProcess?: number;
  /** Threads per local agent (default: the cores shared out among the agents). */
  workersPerAgent?: number;
  joinTimeoutMs?: number;
  silenceMs?: number;
  /** Local agents record the deltas they send here (agent-N.jsonl), for audits and tests. */
  recordDeltasDir?: string;
}

/** The agents of this run, or null when its devices run on this process's threads. */
export function chooseAgents(
  options: AgentRunOptions | undefined,
  planned: number,
  scenario: Pick<Scenario, 'target'> & { devices?: Pick<Scenario['devices'], 'push'> },
  cores: number,
  /** The embedded platform runs in this process (not in platform processes of its own). */
  platformHere = scenario.target.kind === 'embedded',
): AgentPlan | null {
  const timing = {
    joinTimeoutMs: options?.joinTimeoutMs ?? 60_000,
    silenceMs: options?.silenceMs ?? 10_000,
  };
  if (options?.listen) {
    const { host, port, expect, token } = options.listen;
    return { host, port, expect, token, local: null, ...timing };
  }
  const perProcess = options?.devicesPerProcess ?? DEFAULT_DEVICES_PER_PROCESS;
  // A device holds its WebSocket and an RTMP socket per channel it pushes by itself; the embedded
  // platform holds the server side of each in this process too (of the pushes, when it ingests them).
  const push = scenario.devices?.push ?? null;
  const pushSockets = push ? push.channels * push.fraction : 0;
  const deviceSockets = 1 + pushSockets;
  const platformSockets = platformHere ? 1 + (push?.url === 'embedded' ? pushSockets : 0) : 0;
  const socketsHere = planned * (deviceSockets + platformSockets);
  const count =
    options?.localAgents ??
    (socketsHere > perProcess ? Math.ceil((planned * deviceSockets) / perProcess) : 0);
  if (count <= 0) return null;
  return {
    host: '127.0.0.1',
    port: 0,
    expect: count,
    token: randomBytes(24).toString('base64url'),
    local: {
      workersPerAgent: options?.workersPerAgent ?? Math.max(1, Math.floor(cores / count)),
      recordDeltasDir: options?.recordDeltasDir ?? null,
    },
    ...timing,
  };
}

/**
 * Towards a loopback target, devices without a source address are spread over 127.0.0.2,
 * 127.0.0.3… so that no (source, target) pair runs out of ephemeral ports.
 */
export function spreadLoopbackSources(
  planned: PlannedDevice[],
  targetUrl: string,
  perAddress = DEVICES_PER_SOURCE_ADDRESS,
): PlannedDevice[] {
  let host: string;
  try {
    host = new URL(targetUrl).hostname;
  } catch {
    return planned;
  }
  if (!host.startsWith('127.') || planned.length <= perAddress) return planned;
  const addresses = Math.min(250, Math.ceil(planned.length / perAddress));
  return planned.map((d, i) =>
    d.sourceAddress === null ? { ...d, sourceAddress: `127.0.0.${2 + (i % addresses)}` } : d,
  );
}
