import { availableParallelism } from 'node:os';
import type { RunningIvc } from '../ivc/server.js';
import { startIvc } from '../ivc/server.js';
import { ensureLadder } from '../media/build.js';
import {
  type Aggregator,
  Aggregator as MetricsAggregator,
  type SecondSample,
  toJsonLine,
} from '../metrics/aggregator.js';
import { GeneratorLimitDetector, type GeneratorLimitSummary } from '../metrics/generator-limit.js';
import { GeneratorHealthSampler } from '../metrics/health.js';
import { parseSeriesKey } from '../metrics/labels.js';
import { renderPrometheus } from '../metrics/prometheus.js';
import { type MetricsServer, startMetricsServer } from '../metrics/prometheus-server.js';
import { MetricsRegistry } from '../metrics/registry.js';
import {
  allPassed,
  evaluateThresholds,
  LiveThresholds,
  parseThresholds,
  type Threshold,
  type ThresholdResult,
  type ThresholdsConfig,
} from '../metrics/thresholds.js';
import { startDeltaTicker } from '../metrics/ticker.js';
import { capacityStages } from '../scenario/normalize.js';
import { maskSecrets } from '../scenario/secrets.js';
import { arrivalsUntil, stagesDurationMs, targetAt } from '../scenario/stages.js';
import type { Scenario, ScenarioEvent } from '../scenario/types.js';
import { capacityUnit, gaugeSum, LimitFinder } from './limit-finder.js';
import type { FromWorker, ToWorker, WorkerInit } from './messages.js';
import { type PlannedDevice, planDevices, type Shard, shardShare } from './plan.js';
import { PlatformDriver } from './platform-driver.js';
import type { ProgressDisplay, ProgressSnapshot } from './progress.js';
import { RunOutput } from './run-output.js';
import { buildSummary, type RunSummary } from './summary.js';
import { WorkerPool } from './worker-pool.js';

/** Exit codes of `ivtfarm run` (README and docs/ci.md). */
export const ExitCode = {
  Ok: 0,
  RuntimeError: 1,
  UsageError: 2,
  WorkerLost: 97,
  BaselineRegression: 98,
  ThresholdsFailed: 99,
  Interrupted: 105,
} as const;

/** A run's exit code: an interruption first, then failed thresholds, then lost workers. */
export function runExitCode(interrupted: boolean, thresholdsPassed: boolean, workersLost: number): number {
  if (interrupted) return ExitCode.Interrupted;
  if (!thresholdsPassed) return ExitCode.ThresholdsFailed;
  return workersLost > 0 ? ExitCode.WorkerLost : ExitCode.Ok;
}

export interface RunOptions {
  /** Live display and log lines (stderr). */
  progress: ProgressDisplay;
  /** Cut the run into shards (`--shard i/n`): this process runs one deterministic slice. */
  shard?: Shard;
  /** Serve Prometheus text on this port (127.0.0.1). */
  metricsPort?: number;
  /** Overrides the scenario's output directory. */
  outputDir?: string;
  /** Device timing overrides (tests). */
  deviceTimings?: WorkerInit['timings'];
  /** Resolves when the run should stop early (Ctrl-C). */
  interrupt?: Promise<string>;
  /** Test fault injection: these workers crash after the given ms. */
  crashWorkers?: Record<number, number>;
  /** What to do when a worker dies: keep going with the others (default) or stop the run. */
  onWorkerCrash?: 'continue' | 'abort';
}

export interface RunResult {
  exitCode: number;
  dir: string;
  summaryPath: string;
  summary: RunSummary;
}

const CONTROL_MS = 200;

export type StopReason = 'completed' | 'limit_found' | 'interrupted' | 'aborted' | 'worker_lost';

const faultDisconnects = new Set(['seq_mismatch', 'timeout', 'malformed', 'closed_by_peer', 'network']);

/** Counters shown as "errors" on the live line: failed logins, error answers, fault disconnects. */
function isErrorSeries(key: string): boolean {
  const { name, labels } = parseSeriesKey(key);
  if (name === 'rpc_errors') return true;
  if (name === 'logins') return labels.result !== 'ok';
  return name === 'disconnects' && faultDisconnects.has(labels.reason ?? '');
}

/** `devices.push` with `url: embedded` pointed at the embedded platform's ingest. */
function resolvePush(scenario: Scenario, ivc: RunningIvc | null): WorkerInit['push'] {
  const push = scenario.devices.push;
  if (push?.url !== 'embedded') return push;
  return { ...push, url: `${ivc!.rtmpUrl}/{login_code}-{channel}` };
}

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

/**
 * Runs one scenario: optional embedded platform, workers with their device shards, the load
 * shape and timed events, live metrics and thresholds, results on disk, the exit code.
 */
export async function runScenario(scenario: Scenario, options: RunOptions): Promise<RunResult> {
  const progress = options.progress;
  const startedAt = new Date();
  const output = new RunOutput(options.outputDir ?? scenario.output.dir, scenario.name, startedAt);
  output.writeJson('scenario.json', maskSecrets(scenario));
  const thresholds: Threshold[] = parseThresholds(thresholdsConfig(scenario));

  // ---- the platform ----
  let ivc: RunningIvc | null = null;
  let url: string;
  const upgrade = scenario.events.find((e) => e.action === 'upgrade');
  if (scenario.target.kind === 'embedded') {
    ivc = await startIvc({
      host: '127.0.0.1',
      port: 0,
      auth: { password: scenario.devices.password },
      maxDevices: scenario.platform?.refuseLoginsAfter ?? undefined,
      rtmpIngest:
        scenario.platform?.publish || scenario.devices.push?.url === 'embedded'
          ? { port: 0, maxStreams: scenario.platform?.refuseStreamsAfter ?? undefined }
          : undefined,
      firmware: upgrade
        ? [{ firmware_model: upgrade.firmwareModel ?? 'ivc-fw-2.0.0', size: 256 * 1024 }]
        : undefined,
    });
    url = ivc.url;
    progress.log(`embedded reference IVC on ${ivc.httpUrl} (devices: ${ivc.url})`);
  } else {
    url = scenario.target.url;
  }

  // ---- the media ladder: the committed one when it sends the scenario's bitrates, else built once ----
  const catalogue = await ensureLadder({
    bitrates: scenario.media,
    onProgress: (p) => {
      if (p.phase === 'done')
        progress.log(`media ladder: ${p.quality} built (${Math.round(p.overall * 100)}%)`);
    },
  });
  const mediaDir = catalogue.dir;

  // ---- the devices ----
  const shard = options.shard ?? { index: 0, count: 1 };
  const planned = planDevices(scenario, { shard });
  const workerCount = Math.max(1, Math.min(scenario.workers || availableParallelism(), planned.length || 1));
  const shares: PlannedDevice[][] = Array.from({ length: workerCount }, () => []);
  planned.forEach((d, i) => {
    shares[i % workerCount]!.push(d);
  });

  const pool = new WorkerPool<ToWorker, FromWorker>(new URL('./worker.js', import.meta.url));
  const aggregator: Aggregator = new MetricsAggregator();
  const live = new LiveThresholds(thresholds).attach(aggregator);
  const limit = new GeneratorLimitDetector({ cores: availableParallelism() });
  const main = new MetricsRegistry({ source: 'main' });
  const targetGauge = main.gauge('devices_target');
  const mainHealth = new GeneratorHealthSampler(main, { worker: 'main', process: true });
  const mainTicker = startDeltaTicker(main, (d) => aggregator.add(d), {
    beforeTake: () => mainHealth.tick(),
  });
  const logs: string[] = [];
  const lost: Array<{ worker: number; devices: number; error: string }> = [];
  let finalDeltas = 0;
  let lastSample: SecondSample | null = null;
  let errorsSoFar = 0;

  // Set once every worker is ready: the load shape starts then, not while threads still load code.
  let runStartMs = Date.now();
  let finder: LimitFinder | null = null;
  const makeFinder = () =>
    scenario.capacity
      ? new LimitFinder(scenario.capacity, runStartMs, (step) => {
          requestStop(
            'limit_found',
            `at ${step.level} ${capacityUnit(scenario.capacity!)}, ${step.broken[0]} broke`,
          );
        })
      : null;
  aggregator.onSecond((raw, sample) => {
    output.appendSecond(toJsonLine(sample));
    limit.observe(sample);
    finder?.observe(
      raw,
      sample,
      aggregator.totals,
      limit.limitedNow ? limit.summary().reasons.join('; ') : null,
    );
    lastSample = sample;
    for (const [key, n] of Object.entries(sample.counters)) {
      if (isErrorSeries(key)) errorsSoFar += n;
    }
  });

  const stop: { reason: StopReason; detail: string } = { reason: 'completed', detail: '' };
  let resolveStop!: () => void;
  const stopRequested = new Promise<void>((r) => {
    resolveStop = r;
  });
  let stopped = false;
  const requestStop = (reason: StopReason, detail: string) => {
    if (stop.reason === 'completed' && reason !== 'completed' && !stopped) {
      stop.reason = reason;
      stop.detail = detail;
    }
    stopped = true;
    resolveStop();
  };
  void options.interrupt?.then((why) => requestStop('interrupted', why));

  let readyWorkers = 0;
  let allReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    allReady = resolve;
  });
  pool.on('message', (index, message) => {
    switch (message.type) {
      case 'metrics':
        aggregator.add(message.delta);
        break;
      case 'stopped':
        aggregator.add(message.delta);
        finalDeltas++;
        break;
      case 'log':
        if (logs.length < 200) logs.push(`worker ${index}: ${message.message}`);
        if (message.level !== 'info') progress.log(`worker ${index}: ${message.message}`);
        break;
      case 'ready':
        readyWorkers++;
        if (readyWorkers >= pool.aliveCount) allReady();
        break;
    }
  });
  pool.on('exit', (exit) => {
    if (!exit.error) return;
    lost.push({ worker: exit.index, devices: exit.deviceCount, error: exit.error.message });
    // Its devices are gone: its last gauges (devices online, streams live) must not linger in the sums.
    aggregator.removeSource(`worker-${exit.index}`);
    // A worker that died while loading must not keep the others waiting for it.
    if (readyWorkers >= pool.aliveCount) allReady();
    progress.log(
      `worker ${exit.index} crashed (${exit.error.message}); its ${exit.deviceCount} devices are lost`,
    );
    if ((options.onWorkerCrash ?? scenario.onWorkerCrash) === 'abort' || pool.aliveCount === 0)
      requestStop('worker_lost', exit.error.message);
  });

  shares.forEach((devices, w) => {
    const init: WorkerInit = {
      workerIndex: w,
      url,
      tls:
        scenario.target.kind === 'remote'
          ? { caFile: scenario.target.ca ?? undefined, insecure: scenario.target.insecure }
          : null,
      password: scenario.devices.password,
      devices,
      seed: scenario.seed,
      bitrates: scenario.media,
      timings: {
        ...(upgrade ? { upgradeMs: upgrade.durationMs } : {}),
        ...options.deviceTimings,
      },
      startupJitterMs: scenario.devices.startupJitterMs,
      alarms: scenario.alarms,
      mediaDir,
      sourceAddresses: scenario.devices.sourceAddresses,
      push: resolvePush(scenario, ivc),
      crashAfterMs: options.crashWorkers?.[w],
    };
    pool.spawn(w, devices.length, init);
  });

  let metricsServer: MetricsServer | null = null;
  if (options.metricsPort !== undefined) {
    metricsServer = await startMetricsServer({
      port: options.metricsPort,
      host: '127.0.0.1',
      render: () => renderPrometheus(aggregator, { tags: scenario.tags, mix: scenario.devices.mix }),
    });
    progress.log(`Prometheus metrics on http://127.0.0.1:${metricsServer.port}/metrics`);
  }

  const noOrders = {
    publish: null,
    record: null,
    events: [],
    refuseLoginsAfter: null,
    refuseStreamsAfter: null,
  };
  const driver = ivc ? new PlatformDriver(ivc, scenario.platform ?? noOrders, scenario.seed) : null;
  // Streams mode of the limit finder: the platform's publish orders climb the staircase.
  const streamStairs = scenario.capacity?.mode === 'streams' ? capacityStages(scenario.capacity) : null;
  if (streamStairs) driver?.setPublishTarget(0);

  // ---- the load shape and timed events ----
  const load = scenario.load;
  const shapeMs = stagesDurationMs(load.stages);
  const totalMs = Math.min(scenario.durationMs, shapeMs > 0 ? shapeMs : scenario.durationMs);
  // Workers load their modules first (a second or more); a crash meanwhile must not hang the run.
  let readyTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    ready,
    stopRequested,
    new Promise((r) => {
      readyTimer = setTimeout(r, 30_000);
    }),
  ]);
  clearTimeout(readyTimer);
  runStartMs = Date.now();
  finder = makeFinder();
  // The platform's timed events count from the same start as the devices' load.
  driver?.start();
  const t0 = performance.now();
  const pendingEvents = [...scenario.events].sort((a, b) => a.atMs - b.atMs);
  let lastRunning = -1;
  const control = setInterval(() => {
    const elapsed = performance.now() - t0;
    if (elapsed >= totalMs) {
      requestStop('completed', '');
      return;
    }
    const globalTarget =
      load.model === 'closed'
        ? targetAt(load.stages, elapsed)
        : arrivalsUntil(load.stages, elapsed, load.startRate);
    const shardTarget = Math.min(planned.length, shardShare(globalTarget, shard));
    targetGauge.set(load.model === 'closed' ? shardTarget : planned.length);
    if (shardTarget !== lastRunning) {
      lastRunning = shardTarget;
      for (let w = 0; w < workerCount; w++) {
        pool.post(w, { type: 'target', running: shardShare(shardTarget, { index: w, count: workerCount }) });
      }
    }
    if (streamStairs) driver?.setPublishTarget(Math.floor(targetAt(streamStairs, elapsed)));
    while (pendingEvents.length > 0 && pendingEvents[0]!.atMs <= elapsed) fireEvent(pendingEvents.shift()!);
    if (live.aborted)
      requestStop('aborted', `threshold ${live.aborted.metric} ${live.aborted.expression} failed`);
  }, CONTROL_MS);

  function fireEvent(event: ScenarioEvent): void {
    switch (event.action) {
      case 'disconnect':
        pool.broadcast({
          type: 'disconnect',
          fraction: event.fraction,
          reconnectAfterMs: event.reconnectAfterMs,
          overMs: event.overMs,
        });
        break;
      case 'reboot':
        pool.broadcast({
          type: 'reboot',
          fraction: event.fraction,
          channel: event.channel,
          downtimeMs: event.downtimeMs,
          overMs: event.overMs,
        });
        break;
      case 'alarms':
        pool.broadcast({ type: 'alarms', plan: event.alarms });
        break;
      case 'upgrade':
        if (driver) driver.sendEvent({ event: 'UpgradeFirmware', fraction: event.fraction, params: null });
        else progress.log('upgrade storm skipped: only the embedded platform can send UpgradeFirmware');
        break;
    }
    progress.log(`event at ${Math.round(event.atMs / 1000)}s: ${event.action}`);
  }

  const display = setInterval(() => {
    const s = lastSample as SecondSample | null;
    const snapshot: ProgressSnapshot = {
      elapsedMs: performance.now() - t0,
      totalMs,
      online: s?.gauges['devices{state:online}'] ?? 0,
      target: Math.max(0, lastRunning),
      loginsPerSec: gaugeSum(s?.counters ?? {}, 'logins{result:ok,reason:ok'), // any mix
      keepaliveP99Ms: s?.histograms.keepalive_rtt?.p99 ?? null,
      errors: errorsSoFar,
      streamsLive: gaugeSum(s?.gauges ?? {}, 'streams_live'),
      note: limit.limitedNow ? 'GENERATOR LIMITED' : undefined,
    };
    progress.update(snapshot);
  }, 1000);
  const closeSeconds = setInterval(() => aggregator.closeReady(), 250);

  await stopRequested;
  clearInterval(control);
  clearInterval(display);
  progress.finish();
  if (stop.reason !== 'completed')
    progress.log(`stopping: ${stop.reason}${stop.detail ? ` (${stop.detail})` : ''}`);

  // ---- wind down: stop devices, collect the last deltas, close every second ----
  driver?.stop();
  await pool.stop({ type: 'stop' }, 20_000);
  mainTicker.stop(true);
  mainHealth.stop();
  clearInterval(closeSeconds);
  aggregator.closeAll();
  const endedAt = new Date();
  const platformStats = ivc ? ivc.platform.stats.toJSON(ivc.platform.devices.size) : null;
  const received = driver?.mediaReceived((q) => catalogue.rendition(q).bitrate) ?? null;
  await metricsServer?.close();
  await ivc?.close();
  await output.close();

  const results: ThresholdResult[] = evaluateThresholds(thresholds, aggregator.totals);
  const generator: GeneratorLimitSummary = limit.summary();
  const passed = allPassed(results) && !live.aborted;
  const exitCode = runExitCode(stop.reason === 'interrupted', passed, lost.length);
  const summary = buildSummary({
    scenario,
    startedAt,
    endedAt,
    stopReason: stop.reason,
    stopDetail: stop.detail,
    exitCode,
    totals: aggregator.totals,
    thresholds: results,
    abortedBy: live.aborted,
    generator,
    workers: workerCount,
    devicesPlanned: planned.length,
    shard,
    lost,
    logs,
    platform: ivc
      ? {
          stats: platformStats,
          publishes: driver?.publishes ?? null,
          records: driver?.records ?? null,
          events: driver?.events ?? {},
          received,
        }
      : null,
    finalDeltas,
    capacity: finder?.summary() ?? null,
  });
  const summaryPath = output.writeJson('summary.json', summary);
  return { exitCode, dir: output.dir, summaryPath, summary };
}
