import type { ThresholdsConfig } from '../metrics/thresholds.js';
import type { Scenario } from '../scenario/types.js';

/** Converts the scenario's threshold list to the metrics module's k6-style config. */
export function thresholdsConfig(scenario: Scenario): ThresholdsConfig {
  const config: ThresholdsConfig = {};
  for (const t of scenario.thresholds) {
    config[t.key] = t.rules.map((r) => ({
      threshold: r.expression,
      abortOnFail: r.abortOnFail,
      delayAbortEval: r.delayAbortEvalMs / 1000,
      ...(r.windowMs !== null ? { window: r.windowMs / 1000 } : {}),
    }));
  }
  return config;
}
