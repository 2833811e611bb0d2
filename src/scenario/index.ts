// Public surface of the scenario module.

export { formatDuration, parseDuration } from '../core/duration.js';
export { parseBitrate, parseRate, parseSize } from '../core/units.js';
export { formatProblem, ScenarioError, type ScenarioProblem } from './errors.js';
export {
  type LoadOptions,
  loadScenario,
  type ParseOptions,
  parseScenario,
  validateScenarioFile,
} from './load.js';
export { DEFAULTS, NO_FAULTS } from './normalize.js';
export { MASK, maskSecrets, maskUrl } from './secrets.js';
export { arrivalsUntil, stagesDurationMs, targetAt } from './stages.js';
export { compileLoginCode, type LoginCodeFn } from './template.js';
export type * from './types.js';
