import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RtmpIngestServer } from '../media/rtmp/ingest-server.js';
import type { AdminGuard } from './admin-guard.js';
import { CommandError, type IvcCommands, ingestStreamName, type RecordOrder } from './commands.js';
import { conformanceRules } from './conformance.js';
import type { DeviceRecord } from './device-record.js';
import { BodyTooLargeError, readBody, sendError, sendJson } from './http-util.js';
import type { IvcPlatform } from './platform.js';

const MAX_BODY = 1024 * 1024;

/** Default and largest page of `GET /api/devices`. */
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** The methods each admin API path accepts; null when there is no such path. */
export function adminMethodsFor(parts: readonly string[]): readonly string[] | null {
  const [what, id, action] = parts;
  if (
    parts.length === 1 &&
    (what === 'devices' || what === 'stats' || what === 'streams' || what === 'rules')
  )
    return GET;
  if (parts.length === 1 && what === 'session') return ['GET', 'HEAD', 'POST'];
  if (parts.length === 2 && (what === 'devices' || what === 'recordings') && id !== '') return GET;
  if (parts.length === 3 && what === 'devices' && DEVICE_COMMANDS.has(action!)) return ['POST'];
  return null;
}

const GET = ['GET', 'HEAD'] as const;
const DEVICE_COMMANDS = new Set(['rpc', 'event', 'raw', 'kick']);

/**
 * The JSON admin API under `/api/`: devices, stats, conformance rules, recordings, and the
 * commands (rpc, event, raw, kick) that go through the same `IvcCommands` as the farm's. The
 * caller has checked the method against `adminMethodsFor`; this checks who asks (`AdminGuard`).
 * Nothing here can show a password: device records never hold one.
 */
export async function handleAdminApi(
  platform: IvcPlatform,
  commands: IvcCommands,
  guard: AdminGuard,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const parts = url.pathname.split('/').slice(2); // drop '' and 'api'
  const method = req.method ?? 'GET';
  if (parts[0] === 'session') {
    await browserSession(guard, req, res);
    return;
  }
  const refusal = guard.check(req, method === 'POST');
  if (refusal) {
    req.resume();
    sendError(res, refusal.status, refusal.message);
    return;
  }
  let loginCode = '';
  if (parts[0] === 'devices' && parts[1] !== undefined) {
    try {
      loginCode = decodeURIComponent(parts[1]);
    } catch {
      sendError(res, 400, 'login code in the path is not valid URL encoding');
      return;
    }
  }
  try {
    if (parts.length === 1 && parts[0] === 'devices') {
      listDevices(platform, res, url.searchParams);
    } else if (parts.length === 2 && parts[0] === 'devices') {
      const record = platform.devices.get(loginCode);
      if (record) sendJson(res, 200, deviceView(platform, record));
      else sendError(res, 404, `unknown device ${loginCode.slice(0, 300)}`);
    } else if (parts[0] === 'stats') {
      const memory = process.memoryUsage();
      sendJson(res, 200, {
        ...platform.stats.toJSON(platform.devices.size),
        monitor_dropped: platform.monitor.dropped,
        // Of the whole process: an embedded IVC shares it with the farm.
        process: {
          rss_mb: Math.round(memory.rss / 2 ** 20),
          heap_used_mb: Math.round(memory.heapUsed / 2 ** 20),
        },
      });
    } else if (parts[0] === 'streams') {
      if (platform.ingest)
        sendJson(res, 200, { live: platform.ingest.liveCount, streams: platform.ingest.stats() });
      else sendError(res, 404, 'no RTMP ingest runs with this platform (option rtmpIngest)');
    } else if (parts[0] === 'rules') {
      sendJson(res, 200, conformanceRules);
    } else if (parts[0] === 'recordings') {
      const r = platform.recordings.describe(parts[1]!);
      if (r) sendJson(res, 200, r);
      else sendError(res, 404, `unknown recording ${parts[1]!.slice(0, 300)}`);
    } else {
      await command(commands, loginCode, parts[2]!, req, res, url.searchParams.get('raw') === '1');
    }
  } catch (error) {
    if (error instanceof CommandError) sendError(res, error.status, error.message);
    else if (error instanceof BodyTooLargeError) sendError(res, 413, error.message);
    else sendError(res, 500, `internal error: ${(error as Error).message}`);
  }
}

/**
 * `GET /api/session` tells the monitor page whether it must ask for the admin token;
 * `POST /api/session {"token": …}` trades the token for a session cookie.
 */
export async function browserSession(
  guard: AdminGuard,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const refusal = guard.checkSite(req);
  if (refusal) {
    req.resume();
    sendError(res, refusal.status, refusal.message);
    return;
  }
  if (req.method !== 'POST') {
    sendJson(res, 200, { token_required: guard.tokenRequired, authenticated: guard.authenticated(req) });
    return;
  }
  const jsonRefusal = guard.check(req, true);
  if (jsonRefusal && jsonRefusal.status === 415) {
    req.resume();
    sendError(res, 415, jsonRefusal.message);
    return;
  }
  let token: unknown;
  try {
    token = (JSON.parse((await readBody(req, 4096)).toString()) as { token?: unknown }).token;
  } catch {
    sendError(res, 400, 'body must be JSON {"token": "..."}');
    return;
  }
  const cookie = guard.openBrowserSession(token);
  if (!cookie) {
    sendError(res, 401, guard.tokenRequired ? 'wrong admin token' : 'this platform has no admin token');
    return;
  }
  res.setHeader('set-cookie', cookie);
  sendJson(res, 200, { token_required: true, authenticated: true });
}

/**
 * One page of devices in the order the platform first saw them: `?limit` (default 100, at most
 * 1000), `?after=<next of the previous page>`, `?online=1` for connected ones only.
 */
function listDevices(platform: IvcPlatform, res: ServerResponse, query: URLSearchParams): void {
  const onlineOnly = query.get('online') === '1' || query.get('online') === 'true';
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_PAGE : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_PAGE) {
    sendError(res, 400, `limit must be an integer from 0 to ${MAX_PAGE}`);
    return;
  }
  const afterText = query.get('after');
  const after = afterText === null ? 0 : Number(afterText);
  if (!Number.isInteger(after) || after < 0) {
    sendError(res, 400, 'after must be the "next" value of the previous page');
    return;
  }
  const devices: Record<string, unknown>[] = [];
  let next: string | null = null;
  let lastSeq = after;
  // Records sit in the map in the order of their sequence number (they are only ever appended).
  for (const record of platform.devices.values()) {
    if (record.seq <= after || (onlineOnly && !record.online)) continue;
    if (devices.length === limit) {
      next = String(lastSeq);
      break;
    }
    devices.push(deviceView(platform, record));
    lastSeq = record.seq;
  }
  sendJson(res, 200, { count: devices.length, online: platform.sessions.size, next, devices });
}

async function command(
  commands: IvcCommands,
  loginCode: string,
  action: string,
  req: IncomingMessage,
  res: ServerResponse,
  raw: boolean,
): Promise<void> {
  const body = (await readBody(req, MAX_BODY)).toString();
  switch (action) {
    case 'rpc': {
      const { name, params } = parseJsonCommand(body, 'req');
      sendJson(
        res,
        200,
        await commands.rpc(loginCode, name, withDefaults(commands, name, params, raw), { validate: !raw }),
      );
      return;
    }
    case 'event': {
      const { name, params } = parseJsonCommand(body, 'event');
      commands.event(loginCode, name, params, { validate: !raw });
      sendJson(res, 202, { sent: true });
      return;
    }
    case 'raw':
      commands.raw(loginCode, body);
      sendJson(res, 202, { sent: true, bytes: Buffer.byteLength(body) });
      return;
    case 'kick':
      if (!commands.kick(loginCode)) throw new CommandError(404, `device ${loginCode} is not online`);
      sendJson(res, 200, { kicked: true });
      return;
    default:
      sendError(res, 404, `no such device command "${action}" (rpc, event, raw, kick)`);
  }
}

/**
 * A StartCloudRecord from a person gets the platform's defaults for what it leaves out — the
 * platform's own `cbk_url` above all — so it records to this platform like one it ordered itself.
 */
function withDefaults(commands: IvcCommands, method: string, params: unknown, raw: boolean): unknown {
  if (raw || method !== 'StartCloudRecord' || typeof params !== 'object' || params === null) return params;
  const order = params as { channel?: unknown };
  if (typeof order.channel !== 'number') return params;
  return commands.recordParams(params as RecordOrder);
}

function parseJsonCommand(body: string, key: 'req' | 'event'): { name: string; params: unknown } {
  const usage = `body must be JSON {"${key}": "<name>", "params": ...}`;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new CommandError(400, `${usage}; it is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CommandError(400, usage);
  const o = value as Record<string, unknown>;
  if (typeof o[key] !== 'string' || o[key] === '')
    throw new CommandError(400, `${usage}; "${key}" is missing`);
  return { name: o[key] as string, params: o.params };
}

/**
 * A device as the admin API shows it: its record, each channel with what the platform received
 * for it — the RTMP stream of its `stream_id` (bytes, bitrate) and the segments uploaded for its
 * `record_session`.
 */
function deviceView(platform: IvcPlatform, record: DeviceRecord): Record<string, unknown> {
  const view = record.toJSON();
  view.channels = record.channels.map((ch) => {
    const recording = ch.record_session ? platform.recordings.describe(ch.record_session) : null;
    return {
      ...ch,
      ...rtmpInOf(platform.ingest, ch.stream_id),
      ...(recording
        ? { record_in: { segments: recording.segments, bytes: recording.bytes, fails: recording.fails } }
        : {}),
    };
  });
  return view;
}

/**
 * `{rtmp_in}` of a channel: what `ingest` received on the stream of its `stream_id`; nothing
 * without an ingest or a stream. Also the front's, whose children have no ingest (front.ts).
 */
export function rtmpInOf(
  ingest: RtmpIngestServer | null,
  streamId: unknown,
): { rtmp_in?: { bytes: number; bitrate: number; live: boolean; violations: number } } {
  const stream =
    typeof streamId === 'string' && streamId !== '' && ingest
      ? ingest.stream(ingestStreamName(streamId))
      : null;
  if (!stream) return {};
  return {
    rtmp_in: {
      bytes: stream.bytes,
      bitrate: stream.bitrate,
      live: stream.endedAt === null,
      violations: stream.violations,
    },
  };
}
