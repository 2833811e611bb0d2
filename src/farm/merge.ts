import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpuThreadLimit, withCpuPool } from '../core/cpu-pool.js';
import type { RunSummary } from '../core/summary-types.js';
import { evaluateThresholds } from '../metrics/thresholds.js';
import { mergeTotals, RunTotals } from '../metrics/totals.js';
import { checksPassed, DEFAULT_CHECKS, devicesLostJudged, evaluateChecks } from '../run/checks.js';
import { runExitCode, verdictOf } from '../run/exit-codes.js';
import { thresholdsOf } from '../scenario/thresholds.js';
import type { Scenario } from '../scenario/types.js';
import { viewerSummary } from '../viewer/summary.js';
import { bucketsFile, mergeParts, type SeriesPart } from './merge-series.js';
import type { MergeSeriesTask } from './merge-task.js';
import { metricTables, verdictReasons } from './summary.js';

/** A run directory that cannot be merged, with the reason for the person at the terminal. */
export class MergeError extends Error {}

interface ShardRun {
  dir: string;
  summary: RunSummary;
  scenario: Scenario;
}

function readShard(dir: string): ShardRun {
  const read = (file: string): unknown => {
    try {
      return JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      throw new MergeError(
        `${dir}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
  };
  const summary = read('summary.json') as RunSummary;
  if (summary.schema !== 'ivtfarm.summary/1')
    throw new MergeError(`${dir}/summary.json is not an ivtfarm summary`);
  return { dir, summary, scenario: read('scenario.json') as Scenario };
}

/** The shards' totals of each threshold window (`during`), merged like the run totals. */
function mergeWindowTotals(shards: readonly ShardRun[]): Map<string, RunTotals> {
  const labels = new Set(shards.flatMap((s) => Object.keys(s.summary.window_totals ?? {})));
  return new Map(
    [...labels].map((label) => [
      label,
      mergeTotals(
        shards.flatMap((s) => {
          const w = s.summary.window_totals?.[label];
          return w ? [RunTotals.deserialize(w)] : [];
        }),
      ),
    ]),
  );
}

/**
 * The shards' time series combined. Parsing them is the slow part (100 MB or more per shard-hour):
 * the shards are dealt round-robin to at most cpuThreadLimit() pool tasks, each parses and merges
 * its own, and the partial series (already one per task) merge here.
 */
async function mergeShardSeries(dirs: readonly string[], signal?: AbortSignal): Promise<SeriesPart> {
  const threads = Math.min(dirs.length, cpuThreadLimit());
  const groups = Array.from({ length: threads }, (_, g) => dirs.filter((_, i) => i % threads === g));
  const task = new URL('./merge-task.js', import.meta.url);
  const partials = await withCpuPool<MergeSeriesTask, SeriesPart, SeriesPart[]>(
    { task, maxThreads: threads },
    (pool) => Promise.all(groups.map((group) => pool.run({ dirs: group }, { signal }))),
  );
  return partials.length === 1 ? partials[0]! : mergeParts(partials);
}

/**
 * `ivtfarm merge OUT SHARD…`: the shards of one run (`--shard i/n` on several machines) as one
 * run directory — exact totals and thresholds, combined time series, the scenario — ready for
 * `ivtfarm report`. Returns the merged summary. `signal` (Ctrl-C) stops the series' tasks; nothing
 * is written then.
 */
export async function mergeRuns(
  outDir: string,
  shardDirs: readonly string[],
  signal?: AbortSignal,
): Promise<RunSummary> {
  if (shardDirs.length < 2) throw new MergeError('give at least two shard run directories');
  const shards = shardDirs.map((d) => readShard(resolve(d)));
  const first = shards[0]!;
  const names = new Set(shards.map((s) => s.summary.run.name));
  if (names.size > 1)
    throw new MergeError(`the runs come from different scenarios: ${[...names].join(', ')}`);
  const seen = new Set<string>();
  for (const s of shards) {
    if (seen.has(s.summary.devices.shard)) {
      throw new MergeError(`shard ${s.summary.devices.shard} is given twice (${s.dir})`);
    }
    seen.add(s.summary.devices.shard);
  }
  const totals = mergeTotals(shards.map((s) => RunTotals.deserialize(s.summary.totals)));
  const thresholds = evaluateThresholds(thresholdsOf(first.scenario), totals, mergeWindowTotals(shards));
  const passed = thresholds.every((t) => t.ok);
  const interrupted = shards.some((s) => s.summary.run.verdict === 'interrupted');
  const lost = shards.flatMap((s) => s.summary.devices.lost);
  const startedAt = Math.min(...shards.map((s) => Date.parse(s.summary.run.started_at)));
  const endedAt = Math.max(...shards.map((s) => Date.parse(s.summary.run.ended_at)));
  const checks = evaluateChecks({
    checks: first.scenario.checks ?? DEFAULT_CHECKS,
    counters: totals.counters,
    lost,
    capacitySearch: first.scenario.capacity !== null,
  });
  const abortedBy = shards.find((s) => s.summary.aborted_by)?.summary.aborted_by ?? null;
  const exitCode = runExitCode({
    interrupted,
    thresholdsPassed: passed && !abortedBy,
    checksPassed: checksPassed(checks),
    devicesLost: devicesLostJudged(checks, lost),
  });
  const limited = shards.filter((s) => s.summary.generator.limited);
  const summary: RunSummary = {
    ...first.summary,
    run: {
      ...first.summary.run,
      started_at: new Date(startedAt).toISOString(),
      ended_at: new Date(endedAt).toISOString(),
      duration_s: Math.round((endedAt - startedAt) / 100) / 10,
      stop_detail: `merged from ${shards.length} shards`,
      exit_code: exitCode,
      verdict: verdictOf(exitCode),
      reasons: verdictReasons(checks, thresholds, abortedBy),
    },
    devices: {
      planned: shards.reduce((n, s) => n + s.summary.devices.planned, 0),
      workers: shards.reduce((n, s) => n + s.summary.devices.workers, 0),
      shard: `merged ${[...seen].sort().join(' ')}`,
      lost,
      mix: first.summary.devices.mix,
    },
    checks,
    thresholds,
    aborted_by: abortedBy,
    generator: {
      limited: limited.length > 0,
      limitedSeconds: limited.reduce((n, s) => n + s.summary.generator.limitedSeconds, 0),
      firstLimitedAt:
        limited.length > 0
          ? Math.min(...limited.map((s) => s.summary.generator.firstLimitedAt ?? Infinity))
          : null,
      reasons: [...new Set(limited.flatMap((s) => s.summary.generator.reasons))],
    },
    metrics: metricTables(totals),
    totals: totals.serialize(),
    platform: null,
    capacity: null,
  };
  const viewers = viewerSummary(summary.metrics);
  if (viewers) summary.viewers = viewers;
  const merged = await mergeShardSeries(
    shards.map((s) => s.dir),
    signal,
  );
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'scenario.json'), `${JSON.stringify(first.scenario, null, 2)}\n`);
  writeFileSync(join(out, 'timeseries.jsonl'), merged.seconds.map((s) => `${JSON.stringify(s)}\n`).join(''));
  writeFileSync(join(out, 'histograms.jsonl'), bucketsFile(merged));
  summary.merge = {
    shards: shards.map((s) => s.dir),
    per_second_percentiles: merged.approximateSeconds > 0 ? 'worst_shard' : 'exact',
    exact_seconds: merged.exactSeconds,
    approximate_seconds: merged.approximateSeconds,
    shards_without_buckets: merged.withoutBuckets,
  };
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
