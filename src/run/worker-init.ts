import type { WorkerInit } from '../farm/messages.js';
import type { PlannedDevice } from '../farm/plan.js';
import type { RunningIvc } from '../ivc/server.js';
import type { Scenario } from '../scenario/types.js';
import { ordersThroughApi } from './api-side.js';
import { resolvePush } from './platform.js';

export interface WorkerInitOptions {
  ivc: RunningIvc | null;
  /** The device URLs of an embedded platform in several processes (instead of `ivc`). */
  platformUrls?: string[];
  mediaDir: string;
  deviceTimings?: WorkerInit['timings'];
  crashWorkers?: Record<number, number>;
}

/** What worker `index` needs to run its share of the devices (structured-cloned once). */
export function workerInit(
  scenario: Scenario,
  options: WorkerInitOptions,
  index: number,
  devices: PlannedDevice[],
): WorkerInit {
  const upgrade = scenario.events.find((e) => e.action === 'upgrade');
  const urls = options.ivc
    ? [options.ivc.url]
    : options.platformUrls
      ? options.platformUrls
      : scenario.target.kind === 'remote'
        ? scenario.target.urls
        : [''];
  return {
    workerIndex: index,
    url: urls[0]!,
    urls,
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
    traits: Object.fromEntries(
      scenario.devices.mix.flatMap((m) => (m.traits ? [[m.name, m.traits] as const] : [])),
    ),
    startupJitterMs: scenario.devices.startupJitterMs,
    alarms: scenario.alarms,
    mediaDir: options.mediaDir,
    sourceAddresses: scenario.devices.sourceAddresses,
    push: resolvePush(scenario, options.ivc),
    noticeOrders: ordersThroughApi(scenario),
    crashAfterMs: options.crashWorkers?.[index],
  };
}
