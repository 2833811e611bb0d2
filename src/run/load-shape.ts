// The control loop: every 200 ms, the stage target goes to each worker as its share of running
// devices, and timed events (storms, reboots, alarm plans, upgrades) fire on time.

import { type Shard, shardShare } from '../farm/plan.js';
import type { PlatformDriver } from '../farm/platform-driver.js';
import type { ProgressDisplay } from '../farm/progress.js';
import type { GaugeHandle } from '../metrics/registry.js';
import { arrivalsUntil, stagesDurationMs, targetAt } from '../scenario/stages.js';
import type { Scenario, ScenarioEvent } from '../scenario/types.js';
import type { DeviceSource } from './source.js';
import type { StopSignal } from './stop.js';

const CONTROL_MS = 200;

/** How long the load runs: the stages, capped by the scenario's duration. */
export function loadDurationMs(scenario: Scenario): number {
  const shapeMs = stagesDurationMs(scenario.load.stages);
  return Math.min(scenario.durationMs, shapeMs > 0 ? shapeMs : scenario.durationMs);
}

export class LoadShape {
  private timer: NodeJS.Timeout | null = null;
  private running = -1;

  constructor(
    private readonly scenario: Scenario,
    private readonly planned: number,
    private readonly shard: Shard,
    private readonly fleet: DeviceSource,
    private readonly driver: PlatformDriver | null,
    private readonly targetGauge: GaugeHandle,
    private readonly progress: ProgressDisplay,
  ) {}

  /** Devices the shape wants running now (0 before it starts). */
  get target(): number {
    return Math.max(0, this.running);
  }

  start(stop: StopSignal): void {
    const { load } = this.scenario;
    const totalMs = loadDurationMs(this.scenario);
    const t0 = performance.now();
    const pending = [...this.scenario.events].sort((a, b) => a.atMs - b.atMs);
    this.timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      if (elapsed >= totalMs) {
        stop.request('completed');
        return;
      }
      const globalTarget =
        load.model === 'closed'
          ? targetAt(load.stages, elapsed)
          : arrivalsUntil(load.stages, elapsed, load.startRate);
      const shardTarget = Math.min(this.planned, shardShare(globalTarget, this.shard));
      this.targetGauge.set(load.model === 'closed' ? shardTarget : this.planned);
      if (shardTarget !== this.running) {
        this.running = shardTarget;
        const count = this.fleet.count;
        for (let w = 0; w < count; w++)
          this.fleet.post(w, { type: 'target', running: shardShare(shardTarget, { index: w, count }) });
      }
      while (pending.length > 0 && pending[0]!.atMs <= elapsed) this.fire(pending.shift()!);
    }, CONTROL_MS);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private fire(event: ScenarioEvent): void {
    const pool = this.fleet;
    switch (event.action) {
      case 'disconnect':
        pool.broadcast({
          type: 'disconnect',
          fraction: event.fraction,
          reconnectAfterMs: event.reconnectAfterMs,
          overMs: event.overMs,
        });
        break;
      case 'reboot':
        pool.broadcast({
          type: 'reboot',
          fraction: event.fraction,
          channel: event.channel,
          downtimeMs: event.downtimeMs,
          overMs: event.overMs,
        });
        break;
      case 'alarms':
        pool.broadcast({ type: 'alarms', plan: event.alarms });
        break;
      case 'upgrade':
        if (this.driver)
          this.driver.sendEvent({ event: 'UpgradeFirmware', fraction: event.fraction, params: null });
        else this.progress.log('upgrade storm skipped: only the embedded platform can send UpgradeFirmware');
        break;
    }
    this.progress.log(`event at ${Math.round(event.atMs / 1000)}s: ${event.action}`);
  }
}
