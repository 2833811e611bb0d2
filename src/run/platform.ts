// The embedded reference platform of a `target: embedded` run, and what the devices are told
// about it (the push URL of its ingest).

import { DEFAULT_DEVICES_PER_PROCESS } from '../agent/choose.js';
import type { RunSummary } from '../core/summary-types.js';
import type { WorkerInit } from '../farm/messages.js';
import type { ProgressDisplay } from '../farm/progress.js';
import { type RunningCluster, startIvcCluster } from '../ivc/cluster.js';
import type { IvcOptions } from '../ivc/options.js';
import { type RunningIvc, startIvc } from '../ivc/server.js';
import { ensureLadder } from '../media/build.js';
import { HttpFlvServer } from '../media/rtmp/http-flv-server.js';
import type { PlatformPlan, Scenario } from '../scenario/types.js';
import type { EmbeddedPlayback } from '../viewer/plan.js';
import { ExitCode, RunRefused } from './exit-codes.js';

export function startEmbeddedPlatform(scenario: Scenario): Promise<RunningIvc> {
  return startIvc(embeddedOptions(scenario));
}

function embeddedOptions(scenario: Scenario): IvcOptions {
  const upgrade = scenario.events.find((e) => e.action === 'upgrade');
  return {
    host: '127.0.0.1',
    port: 0,
    auth: { password: scenario.devices.password },
    maxDevices: scenario.platform?.refuseLoginsAfter ?? undefined,
    strict: scenario.platform?.strict ?? false,
    rtmpIngest:
      scenario.platform?.publish || scenario.devices.push?.url === 'embedded'
        ? { port: 0, maxStreams: scenario.platform?.refuseStreamsAfter ?? undefined }
        : undefined,
    firmware: upgrade
      ? [{ firmware_model: upgrade.firmwareModel ?? 'ivc-fw-2.0.0', size: 256 * 1024 }]
      : undefined,
  };
}

/**
 * How many processes the embedded platform runs in (1: in the farm's own process). Its orders
 * (`platform:` publish/record/events, `devices.push: embedded`, `viewers` of `url: embedded`,
 * upgrade storms) are played in-process, so a scenario with any keeps one process; without, a scenario with more devices than one process holds
 * (DEFAULT_DEVICES_PER_PROCESS) gets one platform process per that many. `requested`
 * (`--platform-processes`) overrides the choice.
 */
export function embeddedProcesses(scenario: Scenario, planned: number, requested?: number): number {
  if (scenario.target.kind !== 'embedded') return 0;
  const p = scenario.platform;
  const ordersInProcess =
    (p !== null &&
      (p.publish !== null || p.record !== null || p.events.length > 0 || p.refuseStreamsAfter !== null)) ||
    scenario.devices.push?.url === 'embedded' ||
    scenario.viewers.some((v) => v.url === 'embedded') ||
    scenario.events.some((e) => e.action === 'upgrade');
  if (requested !== undefined) {
    if (requested > 1 && ordersInProcess)
      throw new RunRefused(
        `--platform-processes ${requested}: the scenario's platform orders (platform: publish/record/events, devices.push: embedded, upgrade events) are played by an in-process platform; drop them or run with one platform process`,
        ExitCode.UsageError,
      );
    return requested;
  }
  return ordersInProcess ? 1 : Math.max(1, Math.ceil(planned / DEFAULT_DEVICES_PER_PROCESS));
}

/** The embedded platform in `processes` child processes (`ivtfarm ivc --processes`), on loopback. */
export function startEmbeddedCluster(scenario: Scenario, processes: number): Promise<RunningCluster> {
  return startIvcCluster(embeddedOptions(scenario), processes);
}

/** What the platform processes saw: `/api/stats` of the whole (no orders were played). */
export async function clusterFacts(cluster: RunningCluster): Promise<RunSummary['platform']> {
  const res = await fetch(`${cluster.httpUrl}/api/stats`);
  return {
    stats: res.ok ? ((await res.json()) as Record<string, unknown>) : null,
    publishes: null,
    records: null,
    events: {},
    received: null,
  };
}

/**
 * The embedded ingest's playback for viewers: RTMP play needs nothing more, HTTP-FLV its own
 * server (`http://127.0.0.1:P/live/<name>.flv`). Null without an ingest; no FLV server when the
 * ingest discards what it receives (there is nothing to play back).
 */
export async function startEmbeddedPlayback(
  ivc: RunningIvc,
): Promise<{ playback: EmbeddedPlayback; close(): Promise<void> } | null> {
  const hub = ivc.platform.ingest?.playback;
  if (!ivc.rtmpUrl) return null;
  if (!hub) return { playback: { rtmpUrl: ivc.rtmpUrl, flvUrl: null }, close: async () => undefined };
  const flv = new HttpFlvServer(hub, { host: ivc.host });
  const { port } = await flv.listen();
  return {
    playback: { rtmpUrl: ivc.rtmpUrl, flvUrl: `http://${ivc.host}:${port}/live` },
    close: () => flv.close(),
  };
}

/** `devices.push` with `url: embedded` pointed at the embedded platform's ingest. */
export function resolvePush(scenario: Scenario, ivc: RunningIvc | null): WorkerInit['push'] {
  const push = scenario.devices.push;
  if (push?.url !== 'embedded') return push;
  return { ...push, url: `${ivc!.rtmpUrl}/{login_code}-{channel}` };
}

/** The embedded platform's plan when the scenario has no `platform:` block: it orders nothing. */
export const NO_ORDERS: PlatformPlan = {
  publish: null,
  record: null,
  events: [],
  refuseLoginsAfter: null,
  refuseStreamsAfter: null,
  strict: false,
};

/** The media ladder: the committed one when it sends the scenario's bitrates, else built once. */
export function prepareLadder(
  scenario: Scenario,
  progress: ProgressDisplay,
): ReturnType<typeof ensureLadder> {
  return ensureLadder({
    bitrates: scenario.media,
    onProgress: (p) => {
      if (p.phase === 'done')
        progress.log(`media ladder: ${p.quality} built (${Math.round(p.overall * 100)}%)`);
    },
  });
}
