import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import type { CapacitySummary } from '../capacity/types.js';
import { type RunSummary, SUMMARY_SCHEMA } from '../core/summary-types.js';
import { DEFAULT_CATALOGUE, histogramScale } from '../metrics/catalogue.js';
import type { GeneratorLimitSummary } from '../metrics/generator-limit.js';
import { parseSeriesKey } from '../metrics/labels.js';
import { type HistogramSummary, summarize } from '../metrics/summary.js';
import type { ThresholdResult } from '../metrics/thresholds.js';
import type { RunTotals, SerializedTotals } from '../metrics/totals.js';
import type { CheckResult } from '../run/checks.js';
import { verdictOf } from '../run/exit-codes.js';
import type { StopReason } from '../run/stop.js';
import { maskOverrides, maskUrl } from '../scenario/secrets.js';
import type { Scenario } from '../scenario/types.js';
import { viewerSummary } from '../viewer/summary.js';
import type { Shard } from './plan.js';

export { type RunSummary, SUMMARY_SCHEMA } from '../core/summary-types.js';

export interface SummaryInput {
  scenario: Scenario;
  startedAt: Date;
  endedAt: Date;
  stopReason: StopReason;
  stopDetail: string;
  exitCode: number;
  totals: RunTotals;
  checks: CheckResult[];
  thresholds: ThresholdResult[];
  abortedBy: ThresholdResult | null;
  generator: GeneratorLimitSummary;
  workers: number;
  devicesPlanned: number;
  shard: Shard;
  lost: RunSummary['devices']['lost'];
  platform: RunSummary['platform'];
  capacity: CapacitySummary | null;
  windowTotals?: Record<string, SerializedTotals>;
}

let cachedVersion: string | null = null;
export function ivtfarmVersion(): string {
  if (cachedVersion === null) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    cachedVersion = pkg.version;
  }
  return cachedVersion;
}

export function environment(): RunSummary['environment'] {
  return {
    ivtfarm: ivtfarmVersion(),
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memory_bytes: totalmem(),
  };
}

/** Whole-run figures per series, in the units people read. */
export function metricTables(totals: RunTotals): RunSummary['metrics'] {
  const histograms: Record<string, HistogramSummary> = {};
  for (const [key, counts] of totals.histograms) {
    const def = DEFAULT_CATALOGUE.get(parseSeriesKey(key).name);
    histograms[key] = summarize(counts, def ? histogramScale(def.unit) : 1);
  }
  return {
    counters: Object.fromEntries([...totals.counters].sort(([a], [b]) => a.localeCompare(b))),
    gauges: Object.fromEntries([...totals.gauges].sort(([a], [b]) => a.localeCompare(b))),
    histograms: Object.fromEntries(Object.entries(histograms).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** Why a run failed: failed checks first (nothing happened), then thresholds. */
export function verdictReasons(
  checks: readonly CheckResult[],
  thresholds: readonly ThresholdResult[],
  abortedBy: ThresholdResult | null,
): string[] {
  const reasons = checks.filter((c) => !c.ok).map((c) => c.reason);
  for (const t of thresholds)
    if (!t.ok)
      reasons.push(`threshold ${t.metric} ${t.expression} failed (observed ${t.observed ?? 'no data'})`);
  if (
    abortedBy &&
    !thresholds.some((t) => !t.ok && t.metric === abortedBy.metric && t.expression === abortedBy.expression)
  )
    reasons.push(`threshold ${abortedBy.metric} ${abortedBy.expression} aborted the run`);
  return reasons;
}

export function buildSummary(input: SummaryInput): RunSummary {
  const { scenario } = input;
  const metrics = metricTables(input.totals);
  const viewers = viewerSummary(metrics);
  return {
    schema: SUMMARY_SCHEMA,
    run: {
      name: scenario.name,
      description: scenario.description,
      file: scenario.file,
      tags: scenario.tags,
      parameters: {
        variables: scenario.parameters.variables,
        overrides: maskOverrides(scenario.parameters.overrides),
      },
      started_at: input.startedAt.toISOString(),
      ended_at: input.endedAt.toISOString(),
      duration_s: Math.round((input.endedAt.getTime() - input.startedAt.getTime()) / 100) / 10,
      stop_reason: input.stopReason,
      stop_detail: input.stopDetail,
      exit_code: input.exitCode,
      verdict: verdictOf(input.exitCode),
      reasons: verdictReasons(input.checks, input.thresholds, input.abortedBy),
    },
    environment: environment(),
    target:
      scenario.target.kind === 'embedded'
        ? { kind: 'embedded', url: null }
        : { kind: 'remote', url: maskUrl(scenario.target.url), urls: scenario.target.urls.map(maskUrl) },
    devices: {
      planned: input.devicesPlanned,
      workers: input.workers,
      shard: `${input.shard.index}/${input.shard.count}`,
      lost: input.lost,
      mix: scenario.devices.mix.map((m) => ({ name: m.name, tags: m.tags })),
    },
    checks: input.checks,
    thresholds: input.thresholds,
    aborted_by: input.abortedBy,
    generator: input.generator,
    metrics,
    totals: input.totals.serialize(),
    ...(input.windowTotals && Object.keys(input.windowTotals).length > 0
      ? { window_totals: input.windowTotals }
      : {}),
    platform: input.platform,
    capacity: input.capacity,
    ...(viewers ? { viewers } : {}),
  };
}
