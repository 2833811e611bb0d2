// The scenario's thresholds, as written, handed to the one threshold parser (metrics/thresholds.ts)
// with the load's named stages; its problems placed on the scenario's fields.

import {
  parseThresholds,
  type Threshold,
  ThresholdConfigError,
  type ThresholdProblem,
  type ThresholdsConfig,
} from '../metrics/thresholds.js';
import type { FieldProblem } from './errors.js';
import type { PathSegment } from './locate.js';
import { stageWindows } from './stages.js';
import type { Load, Scenario } from './types.js';

/** The scenario's thresholds, parsed for the run (and for `ivtfarm merge`). */
export function thresholdsOf(scenario: Pick<Scenario, 'thresholds' | 'load'>): Threshold[] {
  return parseThresholds(scenario.thresholds, { stages: stageWindows(scenario.load.stages) });
}

/** Where a threshold problem is in the file, under `base` (`thresholds` or `capacity.service_levels`). */
function placeOf(p: ThresholdProblem, base: PathSegment[], config: ThresholdsConfig): FieldProblem {
  const path: PathSegment[] = [...base, p.key];
  if (p.index !== null) path.push(p.index);
  const entry = p.index !== null ? (config[p.key] as readonly unknown[])[p.index] : config[p.key];
  if (p.field && typeof entry === 'object' && entry !== null) path.push(p.field);
  const onKey = p.index === null && p.field === undefined && typeof config[p.key] !== 'string';
  return { path, message: p.message, ...(onKey ? { anchor: 'key' as const } : {}) };
}

/** Checks thresholds written in a scenario; every problem with its field path. */
export function checkThresholds(config: ThresholdsConfig, load: Load, base: PathSegment[]): FieldProblem[] {
  try {
    parseThresholds(config, { stages: stageWindows(load.stages) });
    return [];
  } catch (error) {
    if (!(error instanceof ThresholdConfigError)) throw error;
    return error.problems.map((p) => placeOf(p, base, config));
  }
}
