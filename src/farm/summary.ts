import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { DEFAULT_CATALOGUE, histogramScale } from '../metrics/catalogue.js';
import type { GeneratorLimitSummary } from '../metrics/generator-limit.js';
import { parseSeriesKey } from '../metrics/labels.js';
import { type HistogramSummary, summarize } from '../metrics/summary.js';
import type { ThresholdResult } from '../metrics/thresholds.js';
import type { GaugeTotals, RunTotals, SerializedTotals } from '../metrics/totals.js';
import { maskOverrides, maskUrl } from '../scenario/secrets.js';
import type { Parameters, Scenario, Tags } from '../scenario/types.js';
import type { StopReason } from './coordinator.js';
import type { CapacitySummary } from './limit-finder.js';
import type { Shard } from './plan.js';
import type { MediaReceived, OrderCounts } from './platform-driver.js';

/** Version of the summary.json layout; bump on any incompatible change (docs/summary.md). */
export const SUMMARY_SCHEMA = 'ivtfarm.summary/1';

export interface RunSummary {
  schema: typeof SUMMARY_SCHEMA;
  run: {
    name: string;
    description: string;
    file: string | null;
    /** The scenario's `tags:` (older summaries: absent). */
    tags?: Tags;
    /** `${VAR}` names used and `--set` overrides (secrets masked). */
    parameters?: Parameters;
    started_at: string;
    ended_at: string;
    duration_s: number;
    stop_reason: StopReason;
    stop_detail: string;
    exit_code: number;
    verdict: 'pass' | 'fail' | 'interrupted';
  };
  environment: {
    ivtfarm: string;
    node: string;
    os: string;
    cpu: string;
    cores: number;
    memory_bytes: number;
  };
  target: { kind: 'embedded' | 'remote'; url: string | null };
  devices: {
    planned: number;
    workers: number;
    shard: string;
    lost: Array<{ worker: number; devices: number; error: string }>;
    /** Mix entries by name, with their tags (the `mix` label of per-device metrics). */
    mix?: Array<{ name: string; tags: Tags }>;
  };
  thresholds: ThresholdResult[];
  aborted_by: ThresholdResult | null;
  generator: GeneratorLimitSummary;
  metrics: {
    counters: Record<string, number>;
    gauges: Record<string, GaugeTotals>;
    /** In the metric's unit (ms for durations). */
    histograms: Record<string, HistogramSummary>;
  };
  /** Exact, mergeable run totals (HDR histograms encoded) for shards and baselines. */
  totals: SerializedTotals;
  platform: {
    stats: Record<string, unknown> | null;
    publishes: OrderCounts | null;
    records: OrderCounts | null;
    events: Record<string, number>;
    /** What the embedded platform received for its orders (streams' bitrate, recordings' segments). */
    received: MediaReceived | null;
  } | null;
  /** The limit finder's result, when the scenario has `capacity:`. */
  capacity: CapacitySummary | null;
  logs: string[];
}

export interface SummaryInput {
  scenario: Scenario;
  startedAt: Date;
  endedAt: Date;
  stopReason: StopReason;
  stopDetail: string;
  exitCode: number;
  totals: RunTotals;
  thresholds: ThresholdResult[];
  abortedBy: ThresholdResult | null;
  generator: GeneratorLimitSummary;
  workers: number;
  devicesPlanned: number;
  shard: Shard;
  lost: RunSummary['devices']['lost'];
  logs: string[];
  platform: RunSummary['platform'];
  finalDeltas: number;
  capacity: CapacitySummary | null;
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

export function buildSummary(input: SummaryInput): RunSummary {
  const { scenario } = input;
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
      verdict:
        input.stopReason === 'interrupted'
          ? 'interrupted'
          : input.thresholds.every((t) => t.ok) && !input.abortedBy
            ? 'pass'
            : 'fail',
    },
    environment: environment(),
    target:
      scenario.target.kind === 'embedded'
        ? { kind: 'embedded', url: null }
        : { kind: 'remote', url: maskUrl(scenario.target.url) },
    devices: {
      planned: input.devicesPlanned,
      workers: input.workers,
      shard: `${input.shard.index}/${input.shard.count}`,
      lost: input.lost,
      mix: scenario.devices.mix.map((m) => ({ name: m.name, tags: m.tags })),
    },
    thresholds: input.thresholds,
    aborted_by: input.abortedBy,
    generator: input.generator,
    metrics: metricTables(input.totals),
    totals: input.totals.serialize(),
    platform: input.platform,
    capacity: input.capacity,
    logs: input.logs,
  };
}
