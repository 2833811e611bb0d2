// Judges each step of the capacity staircase on its own seconds only: the logins (or publishes)
// of a step on its ramp and hold, every other service level on its hold, never on a second that
// reaches into the next ramp. A service level failing continuously for `sustain` breaks the step
// at once; at the end of the hold each service level is judged over its whole window, and one
// without data leaves the step unjudged (not held).

import type { RawSecond } from '../metrics/aggregator.js';
import { compare } from '../metrics/threshold-expr.js';
import { LiveThresholds, observeTotals, parseThresholds, type Threshold } from '../metrics/thresholds.js';
import { RunTotals } from '../metrics/totals.js';
import type { CapacityPlan } from '../scenario/types.js';
import {
  capacitySteps,
  capacityUnit,
  type StepWindow,
  serviceLevelWindow,
  stepLevel,
  stepTimes,
} from './staircase.js';
import type { CapacityServiceLevel, CapacityStep, CapacitySummary } from './types.js';

/**
 * The level itself as a service level: devices online (devices mode), streams live (streams
 * mode), players playing (viewers mode), requests per second achieved on average over the hold
 * (api_rate: an API too slow to answer leaves the connections busy, and the rate falls short
 * without any slow sample).
 */
const LEVEL_CHECK: Partial<
  Record<CapacityPlan['mode'], { name: string; metric: string; agg: 'last' | 'avg' }>
> = {
  devices: { name: 'devices_online', metric: 'devices{state:online}', agg: 'last' },
  streams: { name: 'streams_live', metric: 'streams_live', agg: 'last' },
  viewers: { name: 'viewers_playing', metric: 'viewers_playing', agg: 'last' },
  api_rate: { name: 'http_rate', metric: 'http_rate', agg: 'avg' },
};

interface Judged {
  name: string;
  threshold: Threshold;
  window: StepWindow;
  /** The level check: its bound is this share of the step's level, and its value is shown as a share. */
  levelShare: number | null;
}

/** Seconds a churned device may take to log in again before the level check counts it missing. */
const CHURN_RELOGIN_S = 3;

/** A service level in its step: the level check's bound is the share of the step's level. */
function atLevel(j: Judged, level: number): Judged {
  if (j.levelShare === null) return j;
  const value = j.levelShare * level;
  return {
    ...j,
    threshold: { ...j.threshold, expression: { ...j.threshold.expression, value } },
  };
}

interface ActiveStep {
  k: number;
  step: CapacityStep;
  /** ms since the staircase started. */
  times: ReturnType<typeof stepTimes>;
  judged: Judged[];
  windows: Record<StepWindow, RunTotals>;
  live: LiveThresholds;
}

/** Parses a service level once, as a live threshold that breaks after failing for `sustainS`. */
function parseOne(metric: string, threshold: string, sustainS: number, lookbackS: number): Threshold {
  const [th] = parseThresholds({ [metric]: [{ threshold, abort_on_fail: true, window: sustainS }] });
  return { ...th!, lookbackS };
}

export class LimitFinder {
  private readonly steps: CapacityStep[] = [];
  private active: ActiveStep | null = null;
  private ended: CapacitySummary['ended'] | null = null;
  private generatorReason: string | null = null;
  /** Every service level, parsed once; the level check's bound is set per step (atLevel). */
  private readonly judged: Judged[];

  constructor(
    private readonly plan: CapacityPlan,
    private readonly onBroken: (step: CapacityStep) => void,
  ) {
    const sustainS = plan.sustainMs / 1000;
    const lookbackS = Math.max(1, Math.min(plan.holdMs / 1000, 5));
    this.judged = plan.serviceLevels.map((s) => {
      const threshold = parseOne(s.metric, s.expression, sustainS, lookbackS);
      return {
        name: `${s.metric} ${s.expression}`,
        threshold,
        window: serviceLevelWindow(plan.mode, threshold.def.name),
        levelShare: null,
      };
    });
    const check = LEVEL_CHECK[plan.mode];
    if (check) {
      // Churned devices are offline while they log in again: the level check leaves room for
      // CHURN_RELOGIN_S seconds of churn (else one reconnecting device of 100 breaks 99 %).
      const share = Math.max(
        0,
        plan.onlineRatio - (plan.mode === 'devices' ? plan.churn : 0) * CHURN_RELOGIN_S,
      );
      this.judged.push({
        name: `${check.name} >= ${Math.round(share * 1000) / 10}%`,
        // Live, second by second (a level not reached for `sustain` breaks the step); at the end,
        // devices and streams must still be online in the hold's last second — not an average:
        // the devices started last in the ramp may still be logging in during the hold's first
        // second. A request rate is judged on its average (autocannon sends in per-second bursts).
        threshold: parseOne(
          check.metric,
          `${check.agg}>=${share}`,
          sustainS,
          check.agg === 'avg' ? lookbackS : 1,
        ),
        window: 'hold',
        levelShare: share,
      });
    }
  }

  private get levels(): CapacityServiceLevel[] {
    return this.judged.map((j, i) => {
      const written = this.plan.serviceLevels[i];
      return {
        name: j.name,
        metric: written?.metric ?? j.threshold.metric,
        expression:
          written?.expression ??
          `${LEVEL_CHECK[this.plan.mode]?.agg ?? 'last'}>=${this.plan.onlineRatio}×level`,
        window: j.window,
      };
    });
  }

  /**
   * Called for each closed second (its `loadMs` counts from the staircase's start), with the
   * reason when the generator is saturated in it.
   */
  observe(raw: RawSecond, generatorLimited: string | null): void {
    const m = raw.loadMs;
    if (this.ended || m === null) return;
    if (!this.active) this.openAt(m);
    const a = this.active;
    if (!a || m < a.times.rampFrom) return;
    if (m + 1000 > a.times.holdTo) {
      // Reaches into the next ramp: belongs to no step.
      this.finish(true);
      this.openAt(m);
      return;
    }
    if (generatorLimited && !this.generatorReason) this.generatorReason = generatorLimited;
    a.windows['ramp+hold'].addSecond(raw);
    if (m >= a.times.holdFrom) {
      a.windows.hold.addSecond(raw);
      a.live.observe(raw, a.windows.hold);
    }
    if (a.live.aborted) this.finish(true);
    else if (m + 1000 >= a.times.holdTo) this.finish(true);
  }

  summary(): CapacitySummary {
    if (this.active) this.finish(false);
    const held = this.steps.filter((s) => s.held);
    const broken = this.steps.find((s) => s.broken.length > 0) ?? null;
    return {
      mode: this.plan.mode,
      unit: capacityUnit(this.plan),
      steps: this.steps,
      service_levels: this.levels,
      capacity: held.at(-1)?.level ?? null,
      broke_at: broken?.level ?? null,
      first_broken: broken?.broken[0] ?? null,
      lower_bound: this.generatorReason !== null,
      lower_bound_reason: this.generatorReason,
      ended: this.ended ?? 'stopped',
    };
  }

  /** Opens the step whose ramp and hold wholly contain the second starting at `m`, if any. */
  private openAt(m: number): void {
    const k = Math.floor(m / (this.plan.rampMs + this.plan.holdMs));
    if (k < this.steps.length || k >= capacitySteps(this.plan)) return;
    const times = stepTimes(this.plan, k);
    if (m < times.rampFrom || m + 1000 > times.holdTo) return;
    const level = stepLevel(this.plan, k);
    const judged = this.judged.map((j) => atLevel(j, level));
    this.active = {
      k,
      times,
      judged,
      windows: { 'ramp+hold': new RunTotals(), hold: new RunTotals() },
      live: new LiveThresholds(judged.map((j) => j.threshold)),
      step: {
        level,
        ramp: null,
        hold: null,
        held: false,
        broken: [],
        no_data: [],
        complete: false,
        observed: {},
      },
    };
  }

  /** Judges the active step over its windows; `complete` false when the run stopped within it. */
  private finish(complete: boolean): void {
    const a = this.active;
    if (!a) return;
    this.active = null;
    const failing: string[] = [];
    for (const j of a.judged) {
      const observed = observeTotals(j.threshold, a.windows[j.window]);
      a.step.observed[j.name] =
        observed === null || j.levelShare === null ? observed : observed / a.step.level;
      if (observed === null) a.step.no_data.push(j.name);
      else if (!compare(observed, j.threshold.expression.op, j.threshold.expression.value))
        failing.push(j.name);
    }
    const abortedAt = a.live.results().findIndex((r) => r.aborted);
    const first = abortedAt >= 0 ? a.judged[abortedAt]!.name : undefined;
    // A step cut short by the run's end is judged only when it already broke.
    a.step.broken = first ? [first, ...failing.filter((n) => n !== first)] : complete ? failing : [];
    a.step.complete = complete;
    a.step.held = complete && a.step.broken.length === 0 && a.step.no_data.length === 0;
    const all = a.windows['ramp+hold'];
    const hold = a.windows.hold;
    if (all.from !== null && all.to !== null) a.step.ramp = { from: all.from, to: hold.from ?? all.to + 1 };
    if (hold.from !== null && hold.to !== null) a.step.hold = { from: hold.from, to: hold.to + 1 };
    this.steps.push(a.step);
    if (a.step.broken.length > 0) {
      this.ended = 'broken';
      this.onBroken(a.step);
    } else if (complete && a.k + 1 >= capacitySteps(this.plan)) {
      this.ended = 'max_reached';
    }
  }
}
