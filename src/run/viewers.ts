// The run's viewers (`viewers:` in the scenario): players in their own worker threads, apart from
// the devices' threads and the coordinator's, fed their targets every 200 ms from each group's
// start/ramp/duration — or, in the limit finder's `viewers` mode, from its staircase — and
// streaming metric deltas into the aggregator like the device workers.
import { capacityStages } from '../capacity/index.js';
import { type Shard, shardShare } from '../farm/plan.js';
import type { ProgressDisplay } from '../farm/progress.js';
import { WorkerPool } from '../farm/worker-pool.js';
import { targetAt } from '../scenario/stages.js';
import type { Scenario, ViewerGroup } from '../scenario/types.js';
import type { FromViewerWorker, ToViewerWorker, ViewerThreadGroup } from '../viewer/worker-messages.js';
import type { DeltaSink } from './source.js';
import type { StopSignal } from './stop.js';
import { readyOrStopped } from './workers.js';

const CONTROL_MS = 200;
const STOP_GRACE_MS = 10_000;
/** A thread serves about 3,000 players per core (docs/benchmarks.md); leave it room. */
export const PLAYERS_PER_THREAD = 2000;

/** Players of a group wanted `elapsedMs` after the load began: ramp up from `start`, hold, end. */
export function groupTargetAt(group: ViewerGroup, players: number, elapsedMs: number): number {
  const t = elapsedMs - group.startMs;
  if (t < 0) return 0;
  if (group.durationMs !== null && t >= group.rampMs + group.durationMs) return 0;
  return group.rampMs > 0 ? Math.min(players, (players * t) / group.rampMs) : players;
}

/** Players gone with a viewer thread that crashed. */
export interface LostViewers {
  thread: number;
  /** The players the thread was planned to run. */
  players: number;
  error: string;
}

export class ViewerFleet {
  private readonly pool = new WorkerPool<ToViewerWorker, FromViewerWorker>(
    new URL('../viewer/worker.js', import.meta.url),
  );
  private timer: NodeJS.Timeout | null = null;
  private readonly readyWorkers = new Set<number>();
  private readonly allReady: Promise<void>;
  private readonly threads: number;
  private readonly counts: number[];
  /** Threads that crashed, and the players they took with them (judged by the viewers-lost check). */
  readonly lost: LostViewers[] = [];

  /** `players[g]`: group g's planned URLs in ramp order. */
  constructor(
    private readonly scenario: Scenario,
    players: readonly string[][],
    sink: DeltaSink,
    progress: Pick<ProgressDisplay, 'log'>,
    private readonly shard: Shard = { index: 0, count: 1 },
    threads?: number,
    /** Test fault injection: these threads crash after the given ms. */
    crashThreads: Record<number, number> = {},
  ) {
    this.counts = players.map((p) => p.length);
    const total = this.counts.reduce((a, b) => a + b, 0);
    this.threads = Math.max(1, threads ?? Math.ceil(total / PLAYERS_PER_THREAD));
    let resolveReady!: () => void;
    this.allReady = new Promise((resolve) => {
      resolveReady = resolve;
    });
    this.pool.on('message', (index, message) => {
      if (message.type === 'ready') {
        this.readyWorkers.add(index);
        if (this.readyWorkers.size >= this.pool.aliveCount) resolveReady();
      } else sink.add(message.delta);
    });
    const perThread: number[] = [];
    this.pool.on('exit', (exit) => {
      if (!exit.error) return;
      sink.removeSource(`viewers-${exit.index}`);
      if (this.readyWorkers.size >= this.pool.aliveCount) resolveReady();
      const players = perThread[exit.index] ?? 0;
      this.lost.push({ thread: exit.index, players, error: exit.error.message });
      progress.log(
        `viewer thread ${exit.index} crashed (${exit.error.message}); its ${players} players are gone`,
      );
    });
    const capacity = scenario.capacity;
    if (capacity?.mode === 'viewers' && capacity.max > total)
      progress.log(
        `capacity: the staircase climbs to ${capacity.max} viewers but the plan has ${total} players (per_stream × streams)`,
      );
    for (let w = 0; w < this.threads; w++) {
      // Thread w gets players w, w + threads…: every thread ramps at the same pace (shardShare).
      const groups: ViewerThreadGroup[] = scenario.viewers.map((g, i) => ({
        protocol: g.protocol,
        urls: players[i]!.filter((_, k) => k % this.threads === w),
        bufferMs: g.bufferMs,
        firstFrameTimeoutMs: g.firstFrameTimeoutMs,
        liveEdgeSegments: g.liveEdgeSegments,
      }));
      const count = groups.reduce((n, g) => n + g.urls.length, 0);
      perThread[w] = count;
      this.pool.spawn(w, count, { workerIndex: w, groups, crashAfterMs: crashThreads[w] });
    }
  }

  get planned(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  /** Resolves once every thread loaded its code (or died), or the run was asked to stop meanwhile. */
  ready(stop: StopSignal): Promise<void> {
    return readyOrStopped(this.allReady, stop);
  }

  /** Players wanted per group `elapsedMs` after the load began. */
  targets(elapsedMs: number): number[] {
    const capacity = this.scenario.capacity;
    if (capacity?.mode === 'viewers') {
      // The staircase's level is the number of players (this shard's share of it), shared by
      // the groups as planned.
      const level = shardShare(targetAt(capacityStages(capacity), elapsedMs), this.shard);
      const total = this.planned;
      return this.counts.map((n) => (total > 0 ? Math.min(n, Math.round((level * n) / total)) : 0));
    }
    return this.scenario.viewers.map((g, i) => groupTargetAt(g, this.counts[i]!, elapsedMs));
  }

  /** Starts the control loop at the load's start. */
  start(loadStartMs: number): void {
    let last = '';
    this.timer = setInterval(() => {
      const wanted = this.targets(Date.now() - loadStartMs).map(Math.floor);
      const key = wanted.join(',');
      if (key === last) return;
      last = key;
      for (let w = 0; w < this.threads; w++) {
        const share = { index: w, count: this.threads };
        this.pool.post(w, { type: 'target', running: wanted.map((n) => shardShare(n, share)) });
      }
    }, CONTROL_MS);
  }

  /** Stops every player (their last deltas arrive first), then ends the threads. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pool.stop({ type: 'stop' }, STOP_GRACE_MS);
  }
}
