// The controller's device source when devices run in agent processes: slice a of the plan goes
// to agent a, commands go out over its WebSocket, its worker threads' deltas come back with their
// histogram buckets and are merged by the run's aggregator exactly as a local worker's are. An
// agent that closes its connection or falls silent is handled like a crashed worker thread.

import type { ToWorker, WorkerInit } from '../farm/messages.js';
import type { OrderNotice } from '../farm/order-notices.js';
import type { PlannedDevice } from '../farm/plan.js';
import type { ProgressDisplay } from '../farm/progress.js';
import type { DeltaSink, DeviceSource, LostWorker } from '../run/source.js';
import type { StopSignal } from '../run/stop.js';
import { roundRobin } from '../run/workers.js';
import { spreadLoopbackSources } from './choose.js';
import type { AgentHub, AgentLink, AgentPlan } from './hub.js';
import { type FromAgent, fromWire, type ToAgent } from './protocol.js';

const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 30_000;

interface AgentState {
  link: AgentLink;
  devices: number;
  /** Devices of this agent already reported lost with one of its threads. */
  lostDevices: number;
  /** Delta sources (its worker threads) seen: their gauges go when the agent goes. */
  sources: Set<string>;
  ready: boolean;
  done: boolean;
  lost: boolean;
}

export interface AgentFleetOptions {
  silenceMs: number;
  abortOnCrash: boolean;
  workersPerAgent: number | null;
  /** Logins, orders received and streams live, when the run orders through the platform's API. */
  onNotice?: (notice: OrderNotice) => void;
}

type InitFor = (slice: number, devices: PlannedDevice[]) => WorkerInit;

export class AgentFleet implements DeviceSource {
  readonly lost: LostWorker[] = [];
  private readonly agents: AgentState[];
  private readonly watchdog: NodeJS.Timeout;
  private stopping = false;
  private readonly settled = new Set<() => void>();

  constructor(
    hub: AgentHub,
    shares: readonly PlannedDevice[][],
    init: InitFor,
    private readonly sink: DeltaSink,
    private readonly progress: ProgressDisplay,
    private readonly stop: StopSignal,
    private readonly options: AgentFleetOptions,
  ) {
    hub.sealed = true;
    this.agents = hub.links.map((link, a) => {
      const state: AgentState = {
        link,
        devices: shares[a]?.length ?? 0,
        lostDevices: 0,
        sources: new Set(),
        ready: false,
        done: false,
        lost: false,
      };
      link.on('message', (message) => this.onMessage(a, state, message));
      link.on('gone', (why) => this.loseAgent(a, state, why));
      const message: ToAgent = {
        type: 'init',
        init: {
          agent: a,
          agents: hub.count,
          worker: init(a, shares[a] ?? []),
          workers: options.workersPerAgent,
        },
      };
      link.send(message);
      return state;
    });
    this.agents.forEach((state, a) => {
      if (!state.link.open) this.loseAgent(a, state, 'left before the load started');
    });
    this.watchdog = setInterval(() => {
      const now = Date.now();
      for (const state of this.agents) {
        if (!state.lost && !state.done && now - state.link.lastSeenMs > options.silenceMs)
          state.link.drop(`silent for ${Math.round((now - state.link.lastSeenMs) / 1000)} s`);
      }
    }, 1000);
  }

  /** Deals the plan round-robin to the joined agents, spreading loopback source addresses first. */
  static forPlan(
    hub: AgentHub,
    planned: PlannedDevice[],
    init: InitFor,
    sink: DeltaSink,
    progress: ProgressDisplay,
    stop: StopSignal,
    options: Pick<AgentPlan, 'silenceMs' | 'local'> &
      Pick<AgentFleetOptions, 'onNotice'> & { abortOnCrash: boolean },
  ): AgentFleet {
    const target = init(0, []).url;
    const shares = roundRobin(spreadLoopbackSources(planned, target), hub.count);
    return new AgentFleet(hub, shares, init, sink, progress, stop, {
      silenceMs: options.silenceMs,
      abortOnCrash: options.abortOnCrash,
      workersPerAgent: options.local?.workersPerAgent ?? null,
      ...(options.onNotice ? { onNotice: options.onNotice } : {}),
    });
  }

  get count(): number {
    return this.agents.length;
  }

  post(slice: number, command: ToWorker): void {
    const state = this.agents[slice];
    if (state && !state.lost) state.link.send({ type: 'command', command } satisfies ToAgent);
  }

  broadcast(command: ToWorker): void {
    for (let a = 0; a < this.agents.length; a++) this.post(a, command);
  }

  async ready(stop: StopSignal): Promise<void> {
    const allReady = () => this.agents.every((s) => s.ready || s.lost);
    await this.until(allReady, READY_TIMEOUT_MS, stop.stopped);
    if (stop.isRequested) return;
    for (const state of this.agents)
      if (!state.ready && !state.lost) state.link.drop(`not ready within ${READY_TIMEOUT_MS / 1000} s`);
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.broadcast({ type: 'stop' });
    await this.until(() => this.agents.every((s) => s.done || s.lost), STOP_GRACE_MS);
    clearInterval(this.watchdog);
  }

  private onMessage(a: number, state: AgentState, message: FromAgent): void {
    switch (message.type) {
      case 'metrics': {
        let delta: ReturnType<typeof fromWire>;
        try {
          delta = fromWire(message.delta);
          this.sink.add(delta);
        } catch (error) {
          state.link.drop(`sent a bad metrics delta (${(error as Error).message})`);
          return;
        }
        state.sources.add(delta.source);
        break;
      }
      case 'notice':
        this.options.onNotice?.(message.notice);
        break;
      case 'ready':
        state.ready = true;
        break;
      case 'log':
        if (message.level !== 'info') this.progress.log(`agent ${a}: ${message.message}`);
        break;
      case 'lost':
        state.lostDevices += message.devices;
        this.sink.removeSource(message.source);
        this.lost.push({
          worker: a,
          devices: message.devices,
          error: message.error,
          who: `agent ${a} ${message.source}`,
        });
        this.progress.log(
          `agent ${a}: ${message.source} crashed (${message.error}); its ${message.devices} devices are lost`,
        );
        break;
      case 'done':
        state.done = true;
        state.link.ws.close(1000, 'done');
        break;
      case 'hello':
        break;
    }
    this.notify();
  }

  private loseAgent(a: number, state: AgentState, why: string): void {
    if (state.done || state.lost) return;
    state.lost = true;
    const devices = state.devices - state.lostDevices;
    for (const source of state.sources) this.sink.removeSource(source);
    this.lost.push({ worker: a, devices, error: why, who: `agent ${a}` });
    this.progress.log(`agent ${a} (${state.link.remote}) lost: ${why}; its ${devices} devices are lost`);
    const alive = this.agents.filter((s) => !s.lost).length;
    if (!this.stopping && (this.options.abortOnCrash || alive === 0))
      this.stop.request('worker_lost', `agent ${a}: ${why}`);
    this.notify();
  }

  /** Resolves when `condition` holds, after `ms`, or when `also` resolves. */
  private async until(condition: () => boolean, ms: number, also?: Promise<unknown>): Promise<void> {
    if (condition()) return;
    let timer: NodeJS.Timeout | undefined;
    let check: (() => void) | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        check = () => {
          if (condition()) resolve();
        };
        this.settled.add(check);
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
      ...(also ? [also] : []),
    ]);
    clearTimeout(timer);
    if (check) this.settled.delete(check);
  }

  private notify(): void {
    for (const check of [...this.settled]) check();
  }
}
