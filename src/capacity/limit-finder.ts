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

/** The level itself as a service level: devices online (devices mode), streams live (streams mode). */
const LEVEL_CHECK: Partial<Record<CapacityPlan['mode'], { name: string; metric: string }>> = {
  devices: { name: 'devices_online', metric: 'devices{state:online}' },
  streams: { name: 'streams_live', metric: 'streams_live' },
};

interface Judged {
  name: string;
  threshold: Threshold;
  window: StepWindow;
  /** The level check: its observed value is shown as a share of the level. */
  perLevel: number | null;
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

function parseOne(metric: string, threshold: string, sustainS: number, lookbackS: number): Threshold {
  const [th] = parseThresholds({ [metric]: [{ threshold, abort_on_fail: true, window: sustainS }] });
  return { ...th!, lookbackS };
}

export class LimitFinder {
  private readonly steps: CapacityStep[] = [];
  private active: ActiveStep | null = null;
  private ended: CapacitySummary['ended'] | null = null;
  private generatorReason: string | null = null;
  private readonly levels: CapacityServiceLevel[];

  constructor(
    private readonly plan: CapacityPlan,
    private readonly onBroken: (step: CapacityStep) => void,
  ) {
    this.levels = plan.serviceLevels.map((s) => ({
      name: `${s.metric} ${s.expression}`,
      metric: s.metric,
      expression: s.expression,
      window: serviceLevelWindow(plan.mode, parseThresholds({ [s.metric]: s.expression })[0]!.def.name),
    }));
    const check = LEVEL_CHECK[plan.mode];
    if (check) {
      this.levels.push({
        name: `${check.name} >= ${plan.onlineRatio * 100}%`,
        metric: check.metric,
        expression: `avg>=${plan.onlineRatio}×level`,
        window: 'hold',
      });
    }
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
    const sustainS = this.plan.sustainMs / 1000;
    const lookbackS = Math.max(1, Math.min(this.plan.holdMs / 1000, 5));
    const judged: Judged[] = this.levels.map((l, i) => {
      const written = this.plan.serviceLevels[i];
      return written
        ? {
            name: l.name,
            threshold: parseOne(written.metric, written.expression, sustainS, lookbackS),
            window: l.window,
            perLevel: null,
          }
        : {
            name: l.name,
            // Judged second by second live, as the share of the level online at the end of each.
            threshold: parseOne(l.metric, `avg>=${this.plan.onlineRatio * level}`, sustainS, 1),
            window: 'hold',
            perLevel: level,
          };
    });
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
      a.step.observed[j.name] = observed === null || j.perLevel === null ? observed : observed / j.perLevel;
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
