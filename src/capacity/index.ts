// The limit finder (`capacity:` in a scenario). What the coordinator uses: the staircase of the
// streams mode (`capacityStages`), the LimitFinder fed each closed second, its summary.
export { LimitFinder } from './limit-finder.js';
export {
  capacityLoad,
  capacityStages,
  capacityUnit,
  churnEvents,
  DEFAULT_CHURN,
  defaultServiceLevels,
} from './staircase.js';
export type { CapacityServiceLevel, CapacityStep, CapacitySummary, SecondsRange } from './types.js';
