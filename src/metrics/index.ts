// Public surface of the metrics module.

export {
  Aggregator,
  type AggregatorOptions,
  type RawSecond,
  type SecondSample,
  toJsonLine,
} from './aggregator.js';
export {
  buildCatalogue,
  CATALOGUE,
  type Catalogue,
  DEFAULT_CATALOGUE,
  type MetricDef,
  type MetricKind,
  type MetricUnit,
} from './catalogue.js';
export { DeltaFormatError, decodeDelta, type HistogramDelta, type MetricsDelta } from './delta.js';
export {
  GeneratorLimitDetector,
  type GeneratorLimitOptions,
  type GeneratorLimitSummary,
} from './generator-limit.js';
export { GeneratorHealthSampler, type HealthSamplerOptions } from './health.js';
export { LABEL_KEYS, type LabelKey, type Labels, parseSeriesKey, seriesKey } from './labels.js';
export { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus.js';
export { type MetricsServer, startMetricsServer } from './prometheus-server.js';
export { CounterHandle, Family, GaugeHandle, HistogramHandle, MetricsRegistry } from './registry.js';
export type { HistogramSummary } from './summary.js';
export { parseExpression, parseSelector, ThresholdSyntaxError } from './threshold-expr.js';
export {
  allPassed,
  evaluateThresholds,
  LiveThresholds,
  observeTotals,
  parseThresholds,
  type Threshold,
  ThresholdConfigError,
  type ThresholdResult,
  type ThresholdsConfig,
  thresholdWindows,
} from './thresholds.js';
export { type DeltaTicker, startDeltaTicker } from './ticker.js';
export { mergeTotals, RunTotals, type SerializedTotals } from './totals.js';
export { secondInWindow, type TimeWindow, WindowTotals } from './window-totals.js';
