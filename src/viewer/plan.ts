// Which players pull which stream: the streams are the ones the devices push by themselves
// (`devices.push`, the same choice the workers make), each `viewers:` group picks its `fraction`
// of them with the seed and gives each `per_stream` players, in an order that covers every
// stream once before any gets a second player, so a ramp spreads over the streams.
import { createRandom } from '../core/random.js';
import { type PlannedDevice, pushedChannels, pushUrl } from '../farm/plan.js';
import type { DevicePush, Quality, Scenario, ViewerGroup } from '../scenario/types.js';

export interface PushedStream {
  loginCode: string;
  channel: number;
  quality: Quality;
}

/** Where the embedded platform plays its ingest back (null: a remote target). */
export interface EmbeddedPlayback {
  /** `rtmp://host:port/live` */
  rtmpUrl: string;
  /** `http://host:port/live` (null when the ingest keeps no media to play back). */
  flvUrl: string | null;
}

/** Stream names at the embedded ingest (as src/run/platform.ts `resolvePush` makes them). */
export const EMBEDDED_STREAM_NAME = '{login_code}-{channel}';

/** The streams the planned devices push by themselves, in device order. */
export function pushedStreams(
  push: DevicePush | null,
  seed: number,
  devices: readonly PlannedDevice[],
): PushedStream[] {
  if (!push) return [];
  const out: PushedStream[] = [];
  for (const d of devices) {
    const n = pushedChannels(push, seed, d.index, d.channels);
    for (let channel = 0; channel < n; channel++)
      out.push({ loginCode: d.loginCode, channel, quality: push.quality });
  }
  return out;
}

/** A group's URL template with `url: embedded` resolved to the embedded ingest's playback. */
export function groupTemplate(group: ViewerGroup, embedded: EmbeddedPlayback | null): string {
  if (group.url !== 'embedded') return group.url;
  if (!embedded) throw new Error('viewers with url: embedded need the embedded platform');
  if (group.protocol === 'rtmp') return `${embedded.rtmpUrl}/${EMBEDDED_STREAM_NAME}`;
  if (!embedded.flvUrl)
    throw new Error('the embedded ingest discards what it receives: nothing to play back');
  return `${embedded.flvUrl}/${EMBEDDED_STREAM_NAME}.flv`;
}

/** One stream's playback URL from a template with {login_code}, {channel}, {quality}. */
export function viewerUrl(template: string, stream: PushedStream): string {
  return pushUrl(template, stream.loginCode, stream.channel).replaceAll('{quality}', stream.quality);
}

/** The players' URLs of one group, in ramp order. */
export function planGroup(
  group: ViewerGroup,
  groupIndex: number,
  streams: readonly PushedStream[],
  seed: number,
  embedded: EmbeddedPlayback | null,
): string[] {
  const chosen = [...streams];
  const random = createRandom(seed, `viewers-${groupIndex}`);
  for (let i = chosen.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [chosen[i], chosen[j]] = [chosen[j]!, chosen[i]!];
  }
  chosen.length = Math.round(chosen.length * group.fraction);
  const template = groupTemplate(group, embedded);
  const urls = chosen.map((s) => viewerUrl(template, s));
  const out: string[] = [];
  for (let copy = 0; copy < group.perStream; copy++) out.push(...urls);
  return out;
}

/** Every group's players (URLs in ramp order) for this process's devices. */
export function planViewers(
  scenario: Pick<Scenario, 'viewers' | 'seed' | 'devices'>,
  devices: readonly PlannedDevice[],
  embedded: EmbeddedPlayback | null,
): string[][] {
  const streams = pushedStreams(scenario.devices.push, scenario.seed, devices);
  return scenario.viewers.map((g, i) => planGroup(g, i, streams, scenario.seed, embedded));
}
