import { type AlarmTypeCode, alarmTypeCode } from '../core/alarm-types.js';
import type { Random } from '../core/random.js';
import type { Scheduler, Timer } from '../core/scheduler.js';
import type { SimulatedDevice } from '../device/device.js';
import type { AlarmPlan, AlarmType } from '../scenario/types.js';

const TICK_MS = 1000;

/**
 * Raises alarms on a worker's running devices at a rate per channel, as a Poisson process over
 * the whole shard: each second it draws how many alarms start (mean = rate × channels) and
 * picks their channels at random, instead of a timer per channel.
 */
export class AlarmGenerator {
  private plan: AlarmPlan | null = null;
  private timer: Timer | null = null;
  private cumulativeTypes: Array<[number, AlarmTypeCode]> = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly runningCount: () => number,
    private readonly deviceAt: (i: number) => SimulatedDevice,
  ) {}

  setPlan(plan: AlarmPlan | null): void {
    this.plan = plan && plan.perChannelRate > 0 ? plan : null;
    let acc = 0;
    this.cumulativeTypes = [];
    for (const [type, p] of Object.entries(this.plan?.types ?? {}) as Array<[AlarmType, number]>) {
      if (p <= 0) continue;
      acc += p;
      this.cumulativeTypes.push([acc, alarmTypeCode(type)]);
    }
    if (this.plan && !this.timer) this.timer = this.scheduler.after(TICK_MS, () => this.tick());
    if (!this.plan && this.timer) {
      this.scheduler.cancel(this.timer);
      this.timer = null;
    }
  }

  private tick(): void {
    this.timer = null;
    const plan = this.plan;
    if (!plan) return;
    const n = this.runningCount();
    if (n > 0) {
      // Channels differ per device; sample a device first, then one of its channels, with a mean
      // of rate × devices × (average channels), estimated from the devices picked.
      let picked = 0;
      let channels = 0;
      const draws = poisson(plan.perChannelRate * n * this.meanChannels(n), this.random);
      for (let k = 0; k < draws; k++) {
        const d = this.deviceAt(Math.floor(this.random() * n));
        picked++;
        channels += d.channels.length;
        const channel = Math.floor(this.random() * d.channels.length);
        d.raiseAlarm(channel, this.pickType(), plan.durationMs);
      }
      if (picked > 0) this.sampledChannels = channels / picked;
    }
    this.timer = this.scheduler.after(TICK_MS, () => this.tick());
  }

  private sampledChannels = 1;

  private meanChannels(n: number): number {
    // Start from a small sample so the first second already has a sensible mean.
    if (this.sampledChannels === 1 && n > 0) {
      let total = 0;
      const k = Math.min(n, 32);
      for (let i = 0; i < k; i++) total += this.deviceAt(Math.floor(this.random() * n)).channels.length;
      this.sampledChannels = total / k;
    }
    return this.sampledChannels;
  }

  private pickType(): AlarmTypeCode {
    const r = this.random() * (this.cumulativeTypes.at(-1)?.[0] ?? 1);
    for (const [upTo, type] of this.cumulativeTypes) if (r < upTo) return type;
    return this.cumulativeTypes.at(-1)?.[1] ?? 3;
  }
}

/** A Poisson draw (Knuth for small means, normal approximation for large ones). */
function poisson(mean: number, random: Random): number {
  if (mean <= 0) return 0;
  if (mean > 50) {
    const u = Math.max(random(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}
