import { availableParallelism } from 'node:os';
import { actionRequests } from '../api/http-load-action.js';
import { capacityStages } from '../capacity/index.js';
import { httpLoadOf } from '../http-load/source.js';
import type { RunningCluster } from '../ivc/cluster.js';
import type { RunningIvc } from '../ivc/server.js';
import { k6Of, requireK6 } from '../k6/launch.js';
import { Aggregator } from '../metrics/aggregator.js';
import { thresholdWindows } from '../metrics/thresholds.js';
import { WindowTotals } from '../metrics/window-totals.js';
import { openApiSide } from '../run/api-side.js';
import { LoadShape, loadDurationMs } from '../run/load-shape.js';
import { startMainMetrics } from '../run/main-metrics.js';
import { ObserverPipeline, type RunObserver } from '../run/observer.js';
import { CapacityWatch } from '../run/observers/capacity.js';
import { GeneratorWatch } from '../run/observers/generator.js';
import { LiveThresholdWatch } from '../run/observers/live-thresholds.js';
import { PlatformOrders } from '../run/observers/platform.js';
import { ProgressLine } from '../run/observers/progress-line.js';
import { PrometheusEndpoint } from '../run/observers/prometheus.js';
import { TimeseriesWriter } from '../run/observers/timeseries.js';
import type { RunOptions, RunResult } from '../run/options.js';
import {
  clusterFacts,
  embeddedProcesses,
  NO_ORDERS,
  prepareLadder,
  resolvePush,
  startEmbeddedCluster,
  startEmbeddedPlatform,
  startEmbeddedPlayback,
} from '../run/platform.js';
import { preflight } from '../run/preflight.js';
import { Resources } from '../run/resources.js';
import { agentSource, gatherAgents } from '../run/sources.js';
import { StopSignal } from '../run/stop.js';
import { judgeRun, platformFacts } from '../run/verdict.js';
import { ViewerFleet } from '../run/viewers.js';
import { workerInit } from '../run/worker-init.js';
import { FleetWorkers, roundRobin } from '../run/workers.js';
import { maskSecrets } from '../scenario/secrets.js';
import { thresholdsOf } from '../scenario/thresholds.js';
import type { Scenario } from '../scenario/types.js';
import { type EmbeddedPlayback, planViewers } from '../viewer/plan.js';
import type { OrderNotice } from './order-notices.js';
import { type PlannedDevice, planDevices } from './plan.js';
import { PlatformDriver } from './platform-driver.js';
import { RunOutput } from './run-output.js';

export { ExitCode, runExitCode } from '../run/exit-codes.js';
export type { RunOptions, RunResult } from '../run/options.js';
export type { StopReason } from '../run/stop.js';

/**
 * Runs one scenario: whatever can refuse the run is checked before anything starts; then the
 * platform, the workers and the observers; the load; the wind-down; the verdict. Everything
 * opened is closed in reverse order, also when something throws.
 */
export async function runScenario(scenario: Scenario, options: RunOptions): Promise<RunResult> {
  const { progress } = options;
  const resources = new Resources((message) => progress.log(message));
  const stop = new StopSignal();
  void options.interrupt?.then((why) => stop.request('interrupted', why));
  try {
    // ---- before anything starts: ports, targets ----
    const aggregator = new Aggregator();
    const prometheus =
      options.metricsPort === undefined
        ? null
        : resources.add(
            'Prometheus endpoint',
            await PrometheusEndpoint.listen(options.metricsPort, aggregator, {
              tags: scenario.tags,
              mix: scenario.devices.mix,
            }),
          );
    const shard = options.shard ?? { index: 0, count: 1 };
    const planned = planDevices(scenario, { shard });
    if (scenario.k6) requireK6(scenario.k6); // no k6 on the PATH: refused, whatever the checks say
    if (scenario.checks.preflight) await preflight(scenario, planned);
    const api = await openApiSide(scenario, aggregator, (m) => progress.log(m));
    if (api) resources.add('platform API client', api);
    const thresholds = thresholdsOf(scenario);
    const windows = new WindowTotals(thresholdWindows(thresholds)).attach(aggregator);

    const platformProcesses = embeddedProcesses(scenario, planned.length, options.platformProcesses);

    // ---- agents, when the devices run in other processes: all joined, or the run is refused ----
    const agents = await gatherAgents(
      options.agents,
      planned.length,
      scenario,
      availableParallelism(),
      resources,
      progress,
      platformProcesses === 1,
    );

    // ---- the run directory, the platform, the media ladder ----
    const startedAt = new Date();
    const output = resources.add(
      'run directory',
      new RunOutput(options.outputDir ?? scenario.output.dir, scenario.name, startedAt),
    );
    output.writeJson('scenario.json', maskSecrets(scenario));
    let ivc: RunningIvc | null = null;
    let playback: EmbeddedPlayback | null = null;
    let cluster: RunningCluster | null = null;
    if (platformProcesses > 1) {
      cluster = resources.add('embedded platform', await startEmbeddedCluster(scenario, platformProcesses));
      progress.log(
        `embedded reference IVC in ${platformProcesses} processes, admin API on ${cluster.httpUrl} (devices: ${cluster.deviceUrls.join(' ')})`,
      );
    } else if (platformProcesses === 1) {
      ivc = resources.add('embedded platform', await startEmbeddedPlatform(scenario));
      progress.log(`embedded reference IVC on ${ivc.httpUrl} (devices: ${ivc.url})`);
      const served = await startEmbeddedPlayback(ivc);
      if (served) playback = resources.add('embedded playback', served).playback;
    }
    if (prometheus) progress.log(`Prometheus metrics on ${prometheus.url}`);
    const media = await prepareLadder(scenario, progress);

    // ---- sources: worker threads or agents, each with its round-robin share of the devices ----
    const workerCount = Math.max(
      1,
      Math.min(scenario.workers || availableParallelism(), planned.length || 1),
    );
    const init = (w: number, devices: PlannedDevice[]) =>
      workerInit(
        scenario,
        { ...options, ivc, platformUrls: cluster?.deviceUrls, mediaDir: media.dir },
        w,
        devices,
      );
    const abortOnCrash = (options.onWorkerCrash ?? scenario.onWorkerCrash) === 'abort';
    // Orders through the platform's API pick online channels from the devices' logins and marks.
    const onNotice = api?.orders ? (notice: OrderNotice) => api.orders!.notice(notice) : undefined;
    if (onNotice && agents && !agents.plan.local)
      progress.log(
        'remote agents: order_delivery_duration and time_to_live include the clock offset between their machines and this one (keep them on NTP)',
      );
    const fleet = resources.add(
      'workers',
      agents
        ? agentSource(agents, planned, init, aggregator, progress, stop, abortOnCrash, onNotice)
        : new FleetWorkers(
            roundRobin(planned, workerCount),
            init,
            aggregator,
            progress,
            stop,
            abortOnCrash,
            onNotice,
          ),
    );
    const main = resources.add('main-thread metrics', startMainMetrics(aggregator));
    // Players in their own threads: a viewer's timing is not the coordinator's or a device's.
    const viewers =
      scenario.viewers.length > 0
        ? resources.add(
            'viewers',
            new ViewerFleet(
              scenario,
              planViewers(scenario, planned, playback),
              aggregator,
              progress,
              shard,
              undefined,
              options.crashViewerThreads,
            ),
          )
        : null;
    const stairs = scenario.capacity ? capacityStages(scenario.capacity) : null;
    // The users' side (HTTP load, a k6 script) runs once, in the first shard, not once per shard.
    const usersHere = shard.index === 0;
    const apiClient = api?.client ?? null;
    const httpLoad = usersHere
      ? httpLoadOf(
          scenario,
          ivc?.httpUrl ?? cluster?.httpUrl ?? null,
          stairs,
          aggregator,
          progress,
          stop,
          apiClient ? (action) => actionRequests(apiClient.plan, action) : undefined,
          apiClient?.plan.auth ? async () => ({ token: (await apiClient.currentToken()) ?? '' }) : null,
        )
      : null;
    if (httpLoad) {
      resources.add('HTTP load', httpLoad);
      await httpLoad.prepare();
    }
    const platformAddress =
      ivc ?? (cluster ? { url: cluster.deviceUrls[0]!, httpUrl: cluster.httpUrl } : null);
    const k6Token = usersHere && scenario.k6 && apiClient ? await apiClient.currentToken() : null;
    const k6 = usersHere
      ? k6Of(scenario, platformAddress, planned, output.dir, aggregator, progress, k6Token)
      : null;
    if (k6) resources.add('k6', k6);

    // ---- observers: every closed second goes to each, in this order ----
    const driver = ivc
      ? new PlatformDriver(ivc, scenario.platform ?? NO_ORDERS, scenario.seed, resolvePush(scenario, ivc))
      : null;
    const c = scenario.capacity;
    // Streams by standing pushes climb with the devices (the load shape), not with orders.
    const streamStairs = c?.mode === 'streams' && c.streamsPerDevice === null ? stairs : null;
    const orderDriver = driver ?? api?.orders ?? null;
    const orders = orderDriver
      ? resources.add('platform orders', new PlatformOrders(orderDriver, streamStairs))
      : null;
    const shape = resources.add(
      'load shape',
      new LoadShape(scenario, planned.length, shard, fleet, driver, main.targetGauge, progress),
    );
    const generator = new GeneratorWatch();
    const live = new LiveThresholdWatch(thresholds);
    const capacity = scenario.capacity ? new CapacityWatch(scenario.capacity, generator) : null;
    const observers: RunObserver[] = [
      new TimeseriesWriter(output),
      generator,
      ...(capacity ? [capacity] : []),
      live,
      new ProgressLine(progress, loadDurationMs(scenario), () => shape.target, generator),
      ...(orders ? [orders] : []),
      ...(prometheus ? [prometheus] : []),
      ...(options.observers ?? []),
    ];
    const pipeline = resources.add('observers', new ObserverPipeline(aggregator, observers, stop));

    // ---- the load: once every worker loaded its code, until the end, a stop or Ctrl-C ----
    await fleet.ready(stop);
    await viewers?.ready(stop);
    const loadStartMs = Date.now();
    aggregator.markLoadStart(loadStartMs); // stages, events, windows and steps count from here
    pipeline.start(loadStartMs);
    shape.start(stop);
    viewers?.start(loadStartMs);
    httpLoad?.start(loadStartMs);
    k6?.start();
    await stop.stopped;
    aggregator.markLoadEnd(Date.now()); // gauges of the teardown are judged no more
    await resources.close(shape);
    if (httpLoad) await resources.close(httpLoad);
    if (k6) await resources.close(k6);
    if (orders) await resources.close(orders);
    if (stop.reason !== 'completed')
      progress.log(`stopping: ${stop.reason}${stop.detail ? ` (${stop.detail})` : ''}`);

    // ---- wind down: players first (a stream ending is not a viewer's failure), then devices ----
    if (viewers) await resources.close(viewers);
    await resources.close(fleet);
    if (api) await resources.close(api); // its last API metrics go in before the seconds close
    await resources.close(main);
    await resources.close(pipeline);
    if (stop.error) throw stop.error;
    const endedAt = new Date();
    const platform = cluster
      ? await clusterFacts(cluster)
      : platformFacts(ivc, driver, api?.orders ?? null, (q) => media.rendition(q).bitrate);
    await resources.closeAll();

    // ---- the verdict ----
    const { exitCode, summary } = judgeRun({
      scenario,
      startedAt,
      endedAt,
      stop,
      aggregator,
      thresholds,
      windows,
      abortedBy: live.aborted,
      generator: generator.summary(),
      capacity: capacity?.summary() ?? null,
      workers: fleet.count,
      planned: planned.length,
      shard,
      lost: fleet.lost,
      lostViewers: viewers?.lost ?? null,
      platform,
    });
    const summaryPath = output.writeJson('summary.json', summary);
    return { exitCode, dir: output.dir, summaryPath, summary };
  } finally {
    await resources.closeAll();
  }
}
