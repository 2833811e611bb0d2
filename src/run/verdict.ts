// The end of a run: thresholds judged on the totals, the built-in checks, the exit code and
// summary.json — everything the verdict is made of, in one place.

import type { CapacitySummary } from '../capacity/types.js';
import type { RunSummary } from '../core/summary-types.js';
import type { Shard } from '../farm/plan.js';
import type { PlatformDriver } from '../farm/platform-driver.js';
import { buildSummary } from '../farm/summary.js';
import type { RunningIvc } from '../ivc/server.js';
import type { Aggregator } from '../metrics/aggregator.js';
import type { GeneratorLimitSummary } from '../metrics/generator-limit.js';
import {
  allPassed,
  evaluateThresholds,
  type Threshold,
  type ThresholdResult,
} from '../metrics/thresholds.js';
import type { WindowTotals } from '../metrics/window-totals.js';
import type { Scenario } from '../scenario/types.js';
import type { ApiOrders } from './api-orders.js';
import { checksPassed, devicesLostJudged, evaluateChecks } from './checks.js';
import { runExitCode } from './exit-codes.js';
import type { StopSignal } from './stop.js';
import type { LostViewers } from './viewers.js';
import type { LostWorker } from './workers.js';

export interface RunFacts {
  scenario: Scenario;
  startedAt: Date;
  endedAt: Date;
  stop: StopSignal;
  aggregator: Aggregator;
  thresholds: readonly Threshold[];
  windows: WindowTotals;
  abortedBy: ThresholdResult | null;
  generator: GeneratorLimitSummary;
  capacity: CapacitySummary | null;
  workers: number;
  planned: number;
  shard: Shard;
  lost: LostWorker[];
  /** Players gone with crashed viewer threads; null: the run has no viewers. */
  lostViewers: LostViewers[] | null;
  platform: RunSummary['platform'];
}

/**
 * What the embedded platform saw (read after the devices stopped, before it closes), or what was
 * ordered through a remote platform's API and what its devices saw of it.
 */
export function platformFacts(
  ivc: RunningIvc | null,
  driver: PlatformDriver | null,
  apiOrders: ApiOrders | null,
  renditionBitrate: Parameters<PlatformDriver['mediaReceived']>[0],
): RunSummary['platform'] {
  if (!ivc && apiOrders) {
    return {
      stats: null,
      publishes: apiOrders.publishCounts,
      records: apiOrders.recordCounts,
      events: apiOrders.events,
      received: apiOrders.mediaReceived(renditionBitrate),
    };
  }
  if (!ivc) return null;
  return {
    stats: ivc.platform.stats.toJSON(ivc.platform.devices.size),
    publishes: driver?.publishes ?? null,
    records: driver?.records ?? null,
    events: driver?.events ?? {},
    received: driver?.mediaReceived(renditionBitrate) ?? null,
  };
}

export function judgeRun(f: RunFacts): { exitCode: number; summary: RunSummary } {
  const totals = f.aggregator.totals;
  const results = evaluateThresholds(f.thresholds, totals, f.windows.totals);
  const checks = evaluateChecks({
    checks: f.scenario.checks,
    counters: totals.counters,
    lost: f.lost,
    lostViewers: f.lostViewers,
    capacitySearch: f.scenario.capacity !== null,
    capacity: f.capacity,
  });
  const exitCode = runExitCode({
    interrupted: f.stop.reason === 'interrupted',
    thresholdsPassed: allPassed(results) && !f.abortedBy,
    checksPassed: checksPassed(checks),
    devicesLost: devicesLostJudged(checks, f.lost),
  });
  const summary = buildSummary({
    scenario: f.scenario,
    startedAt: f.startedAt,
    endedAt: f.endedAt,
    stopReason: f.stop.reason,
    stopDetail: f.stop.detail,
    exitCode,
    totals,
    checks,
    thresholds: results,
    abortedBy: f.abortedBy,
    generator: f.generator,
    workers: f.workers,
    devicesPlanned: f.planned,
    shard: f.shard,
    lost: f.lost,
    platform: f.platform,
    capacity: f.capacity,
    windowTotals: f.windows.serialize(),
  });
  return { exitCode, summary };
}
