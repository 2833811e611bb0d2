// `viewers:` of a scenario file: groups of players pulling back the streams the devices push
// (`devices.push`), with the checks a schema cannot express — the URL template, the protocol it
// implies, the embedded ingest, the timing within the run. docs/viewers.md.
import { protocolOf } from '../viewer/types.js';
import type { PathSegment } from './locate.js';
import type { ScenarioFile } from './schema.js';
import type { DevicePush, Target, ViewerGroup } from './types.js';

/** Placeholders a viewer URL template may use (filled per stream by src/viewer/plan.ts). */
export const VIEWER_URL_PLACEHOLDERS = ['{login_code}', '{channel}', '{quality}'] as const;

const DEFAULT_BUFFER_MS = 1000;
const DEFAULT_FIRST_FRAME_TIMEOUT_MS = 20_000;
const DEFAULT_LIVE_EDGE_SEGMENTS = 3;

/** What the viewers' checks need from the normalizer. */
export interface ViewerChecks {
  problem(path: PathSegment[], message: string, expected?: string, anchor?: 'key'): void;
  duration(value: string | number, path: PathSegment[]): number;
}

type RawGroup = NonNullable<ScenarioFile['viewers']>[number];

export function normalizeViewers(
  raw: ScenarioFile,
  target: Target,
  push: DevicePush | null,
  durationMs: number,
  n: ViewerChecks,
): ViewerGroup[] {
  const groups = raw.viewers ?? [];
  if (groups.length > 0 && !push) {
    n.problem(
      ['viewers'],
      'viewers pull the streams the devices push: there is no `devices.push`',
      'a devices.push block (url, quality, channels, fraction)',
      'key',
    );
  }
  return groups.map((g, i) => normalizeGroup(g, ['viewers', i], target, push, durationMs, n));
}

function normalizeGroup(
  g: RawGroup,
  path: PathSegment[],
  target: Target,
  push: DevicePush | null,
  durationMs: number,
  n: ViewerChecks,
): ViewerGroup {
  const protocol = groupProtocol(g, path, target, push, n);
  if (g.live_edge_segments !== undefined && protocol !== 'hls')
    n.problem([...path, 'live_edge_segments'], 'only applies to HLS players', undefined, 'key');
  const ms = (field: 'start' | 'ramp' | 'duration' | 'buffer' | 'first_frame_timeout', fallback: number) => {
    const v = g[field];
    return v === undefined ? fallback : n.duration(v, [...path, field]);
  };
  const group: ViewerGroup = {
    protocol,
    url: g.url,
    perStream: g.per_stream ?? 1,
    fraction: g.fraction ?? 1,
    startMs: ms('start', 0),
    rampMs: ms('ramp', 0),
    durationMs: g.duration === undefined ? null : ms('duration', 0),
    bufferMs: ms('buffer', DEFAULT_BUFFER_MS),
    firstFrameTimeoutMs: ms('first_frame_timeout', DEFAULT_FIRST_FRAME_TIMEOUT_MS),
    liveEdgeSegments: g.live_edge_segments ?? DEFAULT_LIVE_EDGE_SEGMENTS,
  };
  if (group.firstFrameTimeoutMs <= 0)
    n.problem([...path, 'first_frame_timeout'], 'must be longer than 0', 'a duration such as 20s');
  if (durationMs > 0 && group.startMs + group.rampMs >= durationMs)
    n.problem(
      [...path, g.ramp !== undefined ? 'ramp' : 'start'],
      'the players would start after the end of the run',
      `start + ramp below ${durationMs / 1000}s`,
    );
  return group;
}

/** The group's protocol: as written, else the one its URL implies; the URL template is checked. */
function groupProtocol(
  g: RawGroup,
  path: PathSegment[],
  target: Target,
  push: DevicePush | null,
  n: ViewerChecks,
): ViewerGroup['protocol'] {
  const urlPath = [...path, 'url'];
  if (g.url === 'embedded') {
    if (target.kind !== 'embedded' || (push && push.url !== 'embedded'))
      n.problem(
        urlPath,
        '`embedded` plays back from the embedded ingest: needs the embedded target and devices.push.url: embedded',
        'a URL template such as rtmp://host:port/live/{login_code}-{channel}',
      );
    const protocol = g.protocol ?? 'rtmp';
    if (protocol === 'hls')
      n.problem(
        [...path, 'protocol'],
        'the embedded ingest serves RTMP and HTTP-FLV, not HLS',
        'rtmp or http-flv',
      );
    return protocol;
  }
  const implied = protocolOf(g.url);
  if (!implied) {
    n.problem(urlPath, 'not a playback URL', 'rtmp://…, http://….flv or http://….m3u8');
    return g.protocol ?? 'rtmp';
  }
  const unknown = [...g.url.matchAll(/\{[^}]*\}/g)]
    .map((m) => m[0])
    .filter((p) => !(VIEWER_URL_PLACEHOLDERS as readonly string[]).includes(p));
  if (unknown.length > 0)
    n.problem(urlPath, `unknown placeholder ${unknown.join(', ')}`, VIEWER_URL_PLACEHOLDERS.join(', '));
  else if (!g.url.includes('{login_code}'))
    n.problem(urlPath, 'every stream needs its own URL', 'a template with {login_code} (and {channel})');
  // http:// serves both FLV and HLS: the protocol as written decides; rtmp:// is RTMP only.
  const protocol = g.protocol ?? implied;
  if ((protocol === 'rtmp') !== (implied === 'rtmp'))
    n.problem([...path, 'protocol'], `the URL is ${implied === 'rtmp' ? 'rtmp://' : 'http://'}`, implied);
  return protocol;
}
