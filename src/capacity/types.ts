// The limit finder's section of summary.json, as the report and `ivtfarm merge` read it.

import type { CapacityPlan } from '../scenario/types.js';
import type { StepWindow } from './staircase.js';

/** Whole seconds judged, epoch seconds [from, to). */
export interface SecondsRange {
  from: number;
  to: number;
}

export interface CapacityStep {
  level: number;
  /** The seconds of the step's ramp and of its hold that were judged (whole seconds; null: none). */
  ramp: SecondsRange | null;
  hold: SecondsRange | null;
  /** Every service level passed over its window, and every one had data. */
  held: boolean;
  /** Service levels that broke in this step, the one that broke it first. */
  broken: string[];
  /** Service levels with no sample in their window: not judged, so the step did not hold. */
  no_data: string[];
  /** False when the run stopped before the step's hold ended. */
  complete: boolean;
  /** Value per service level over its window (null: no data). */
  observed: Record<string, number | null>;
}

export interface CapacityServiceLevel {
  name: string;
  metric: string;
  expression: string;
  /** The part of each step its values come from. */
  window: StepWindow;
}

export interface CapacitySummary {
  mode: CapacityPlan['mode'];
  unit: string;
  steps: CapacityStep[];
  service_levels: CapacityServiceLevel[];
  /** The last level that held; null when none did. */
  capacity: number | null;
  broke_at: number | null;
  first_broken: string | null;
  /** True when the generator itself was saturated during the steps judged: the capacity is a lower bound. */
  lower_bound: boolean;
  lower_bound_reason: string | null;
  /** Why the search ended: a broken step, the last step held, or the run stopped early. */
  ended: 'broken' | 'max_reached' | 'stopped';
}
