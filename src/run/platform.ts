// The embedded reference platform of a `target: embedded` run, and what the devices are told
// about it (the push URL of its ingest).

import type { WorkerInit } from '../farm/messages.js';
import type { ProgressDisplay } from '../farm/progress.js';
import { type RunningIvc, startIvc } from '../ivc/server.js';
import { ensureLadder } from '../media/build.js';
import { HttpFlvServer } from '../media/rtmp/http-flv-server.js';
import type { PlatformPlan, Scenario } from '../scenario/types.js';
import type { EmbeddedPlayback } from '../viewer/plan.js';

export function startEmbeddedPlatform(scenario: Scenario): Promise<RunningIvc> {
  const upgrade = scenario.events.find((e) => e.action === 'upgrade');
  return startIvc({
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
  });
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
