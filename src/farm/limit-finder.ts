import type { RawSecond, SecondSample } from '../metrics/aggregator.js';
import { LiveThresholds, parseThresholds, type ThresholdResult } from '../metrics/thresholds.js';
import type { RunTotals } from '../metrics/totals.js';
import { capacitySteps } from '../scenario/normalize.js';
import type { CapacityPlan } from '../scenario/types.js';

export interface CapacityStep {
  level: number;
  /** Epoch seconds of the hold window judged. */
  from: number;
  to: number;
  held: boolean;
  /** Service levels that broke (sustained) in this step, first one first. */
  broken: string[];
  /** Last value observed per service level during the hold (null: no data). */
  observed: Record<string, number | null>;
}

export interface CapacitySummary {
  mode: CapacityPlan['mode'];
  unit: string;
  steps: CapacityStep[];
  service_levels: Array<{ name: string; metric: string; expression: string }>;
  /** The last level that held; null when even the first broke. */
  capacity: number | null;
  broke_at: number | null;
  first_broken: string | null;
  /** True when the generator itself was saturated during the steps judged: the capacity is a lower bound. */
  lower_bound: boolean;
  lower_bound_reason: string | null;
  /** Why the search ended: a broken step, the last step held, or the run stopped early. */
  ended: 'broken' | 'max_reached' | 'stopped';
}

/** The level itself as a service level: devices online (devices mode), streams live (streams mode). */
const LEVEL_CHECK: Partial<Record<CapacityPlan['mode'], { name: string; metric: string; prefix: string }>> = {
  devices: { name: 'devices_online', metric: 'devices{state:online}', prefix: 'devices{state:online}' },
  streams: { name: 'streams_live', metric: 'streams_live', prefix: 'streams_live' },
};

/** What a level counts: devices, streams or logins/s. */
export function capacityUnit(plan: Pick<CapacityPlan, 'mode'>): string {
  return { devices: 'devices', streams: 'streams', login_rate: 'logins/s' }[plan.mode];
}

/** Sum of the gauges whose series key starts with `prefix` (all qualities of streams_live). */
export function gaugeSum(gauges: Record<string, number>, prefix: string): number {
  let sum = 0;
  for (const [key, v] of Object.entries(gauges)) if (key.startsWith(prefix)) sum += v;
  return sum;
}

interface ActiveStep {
  index: number;
  step: CapacityStep;
  live: LiveThresholds;
  onlineFailedSince: number | null;
}

/**
 * Judges each step of the capacity staircase on its hold window: every service level is a
 * live threshold that "breaks" once it fails for `sustain` without a passing second; in devices
 * mode the share of devices online is a service level too. The first broken step ends the search.
 */
export class LimitFinder {
  private readonly steps: CapacityStep[] = [];
  private active: ActiveStep | null = null;
  private ended: CapacitySummary['ended'] | null = null;
  private generatorReason: string | null = null;
  private readonly names: string[];

  constructor(
    private readonly plan: CapacityPlan,
    /** Epoch ms when the staircase started. */
    private readonly startMs: number,
    private readonly onBroken: (step: CapacityStep) => void,
  ) {
    this.names = plan.serviceLevels.map((s) => `${s.metric} ${s.expression}`);
    const check = LEVEL_CHECK[plan.mode];
    if (check) this.names.push(`${check.name} >= ${plan.onlineRatio * 100}%`);
  }

  /** Called for each closed second, with whether the generator is saturated in it. */
  observe(raw: RawSecond, sample: SecondSample, totals: RunTotals, generatorLimited: string | null): void {
    if (this.ended) return;
    const k = this.stepOf(raw.t);
    if (k === null) return;
    if (!this.active || this.active.index !== k) {
      if (this.active) this.close(true);
      if (k >= capacitySteps(this.plan)) return;
      this.open(k);
    }
    const a = this.active!;
    if (generatorLimited && !this.generatorReason) this.generatorReason = generatorLimited;
    a.live.observe(raw, totals);
    for (const r of a.live.results()) a.step.observed[`${r.metric} ${r.expression}`] = r.observed;
    let brokenBy: string | null = a.live.aborted
      ? `${a.live.aborted.metric} ${a.live.aborted.expression}`
      : null;
    const check = LEVEL_CHECK[this.plan.mode];
    if (check) {
      const online = gaugeSum(sample.gauges, check.prefix);
      const name = this.names.at(-1)!;
      a.step.observed[name] = online / a.step.level;
      if (online < this.plan.onlineRatio * a.step.level) {
        a.onlineFailedSince ??= raw.t;
        if ((raw.t - a.onlineFailedSince + 1) * 1000 >= Math.max(1000, this.plan.sustainMs))
          brokenBy ??= name;
      } else {
        a.onlineFailedSince = null;
      }
    }
    if (brokenBy) {
      a.step.broken = [brokenBy, ...this.failing(a).filter((n) => n !== brokenBy)];
      this.close(false);
      this.ended = 'broken';
      this.onBroken(this.steps.at(-1)!);
    } else if ((raw.t + 1) * 1000 >= this.holdEnd(k)) {
      this.close(true);
      if (k + 1 >= capacitySteps(this.plan)) this.ended = 'max_reached';
    }
  }

  summary(): CapacitySummary {
    if (this.active) this.close(true);
    const held = this.steps.filter((s) => s.held);
    const broken = this.steps.find((s) => !s.held) ?? null;
    return {
      mode: this.plan.mode,
      unit: capacityUnit(this.plan),
      steps: this.steps,
      service_levels: this.names.map((name, i) => {
        const sl = this.plan.serviceLevels[i];
        return sl
          ? { name, metric: sl.metric, expression: sl.expression }
          : {
              name,
              metric: LEVEL_CHECK[this.plan.mode]?.metric ?? '',
              expression: `value>=${this.plan.onlineRatio}×level`,
            };
      }),
      capacity: held.at(-1)?.level ?? null,
      broke_at: broken?.level ?? null,
      first_broken: broken?.broken[0] ?? null,
      lower_bound: this.generatorReason !== null,
      lower_bound_reason: this.generatorReason,
      ended: this.ended ?? 'stopped',
    };
  }

  private failing(a: ActiveStep): string[] {
    return a.live
      .results()
      .filter((r: ThresholdResult) => !r.ok)
      .map((r) => `${r.metric} ${r.expression}`);
  }

  private cycleMs(): number {
    return this.plan.rampMs + this.plan.holdMs;
  }

  private holdStart(k: number): number {
    return this.startMs + k * this.cycleMs() + this.plan.rampMs;
  }

  private holdEnd(k: number): number {
    return this.holdStart(k) + this.plan.holdMs;
  }

  /** The step whose hold window contains the whole second `t`, or null (ramping). */
  private stepOf(t: number): number | null {
    const k = Math.floor((t * 1000 - this.startMs) / this.cycleMs());
    if (k < 0) return null;
    return t * 1000 >= this.holdStart(k) && t * 1000 < this.holdEnd(k) ? k : null;
  }

  private open(k: number): void {
    const plan = this.plan;
    const window = plan.sustainMs / 1000;
    const lookback = Math.max(1, Math.min(plan.holdMs / 1000, 5));
    const config: Record<
      string,
      Array<{ threshold: string; abortOnFail: true; window: number; lookback: number }>
    > = {};
    for (const s of plan.serviceLevels) {
      const list = config[s.metric] ?? [];
      list.push({ threshold: s.expression, abortOnFail: true, window, lookback });
      config[s.metric] = list;
    }
    const level = plan.start + k * plan.step;
    this.active = {
      index: k,
      step: {
        level,
        from: Math.floor(this.holdStart(k) / 1000),
        to: Math.floor(this.holdEnd(k) / 1000),
        held: true,
        broken: [],
        observed: {},
      },
      live: new LiveThresholds(parseThresholds(config)),
      onlineFailedSince: null,
    };
  }

  private close(held: boolean): void {
    const a = this.active;
    if (!a) return;
    a.step.held = held;
    this.steps.push(a.step);
    this.active = null;
  }
}
