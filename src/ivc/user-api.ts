// The platform's user API — what a video cloud's web and mobile apps call, and what a load test
// of the platform drives (`api:` in a scenario): a token login, live view and cloud recording per
// channel (which order RTMPPublish / StartCloudRecord from the device), the list of live views.
//
//   POST   /api/login                                   {user, password} → {token, expires_in}
//   POST   /api/cameras/<code>/channels/<n>/live        {quality?, max_bitrate?} → {stream_id, url, …}
//   DELETE /api/cameras/<code>/channels/<n>/live
//   POST   /api/cameras/<code>/channels/<n>/record      {quality?, seg_duration?, …} → {session_id, …}
//   DELETE /api/cameras/<code>/channels/<n>/record
//   GET    /api/live                                    → {count, streams: [...]}
//
// Every request passes the admin API's Host/Origin guard; a POST must be JSON; every call but
// the login carries `Authorization: Bearer <token>` (401 when missing, unknown or expired).

import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { QUALITIES, type Quality } from '../core/quality.js';
import type { AdminGuard } from './admin-guard.js';
import { CommandError, type IvcCommands, ingestStreamName } from './commands.js';
import { secretsEqual } from './credentials.js';
import { BodyTooLargeError, readBody, sendError, sendJson } from './http-util.js';
import type { IvcPlatform } from './platform.js';

/** Who may log in to the user API, and how long a token lives. */
export interface UserApiOptions {
  user: string;
  password: string;
  /** Token lifetime (default 3600000 ms). */
  tokenTtlMs?: number;
  /** Tokens kept at once; the oldest is forgotten first (default 10000). */
  maxTokens?: number;
}

const MAX_BODY = 4096;
/** Live views and recordings the API keeps track of; past it, new ones are refused (503). */
const MAX_ORDERS = 100_000;

const PATHS = /^\/api\/cameras\/([^/]+)\/channels\/(\d{1,3})\/(live|record)$/;

/** The methods a user API path accepts; null when the path is not the user API's. */
export function userApiMethodsFor(path: string): readonly string[] | null {
  if (path === '/api/login') return ['POST'];
  if (path === '/api/live') return ['GET', 'HEAD'];
  if (PATHS.test(path)) return ['POST', 'DELETE'];
  return null;
}

/** A call on one channel: `/api/cameras/<loginCode>/channels/<channel>/…`. */
interface ChannelRequest {
  method: string;
  loginCode: string;
  channel: number;
  /** `<loginCode>/<channel>`. */
  key: string;
  body: Record<string, unknown>;
}

interface LiveView {
  loginCode: string;
  channel: number;
  streamId: string;
  url: string;
  quality: Quality;
  openedAt: number;
}

interface Recording {
  sessionId: string;
  openedAt: number;
}

export class UserApi {
  /** sha256(token) → expiry (epoch ms); a Map keeps insertion order, so the oldest goes first. */
  private readonly tokens = new Map<string, number>();
  private readonly live = new Map<string, LiveView>();
  private readonly recordings = new Map<string, Recording>();
  private readonly ttlMs: number;
  private readonly maxTokens: number;

  constructor(
    private readonly platform: IvcPlatform,
    private readonly commands: IvcCommands,
    private readonly guard: AdminGuard,
    private readonly options: UserApiOptions | null,
  ) {
    // A device that goes offline ends its live views and recordings: opening one again orders anew.
    commands.onDeviceOffline((device) => {
      for (const ch of device.channels) {
        this.live.delete(`${device.loginCode}/${ch.channel}`);
        this.recordings.delete(`${device.loginCode}/${ch.channel}`);
      }
    });
    this.ttlMs = options?.tokenTtlMs ?? 3_600_000;
    this.maxTokens = options?.maxTokens ?? 10_000;
    if (!(this.ttlMs > 0)) throw new Error('userApi.tokenTtlMs must be > 0');
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const refusal = this.guard.checkSite(req) ?? (method === 'POST' ? jsonOnly(req) : null);
    if (refusal) {
      req.resume();
      sendError(res, refusal.status, refusal.message);
      return;
    }
    try {
      if (url.pathname === '/api/login') {
        await this.login(req, res);
        return;
      }
      if (!this.authenticated(req)) {
        req.resume();
        res.setHeader('www-authenticate', 'Bearer');
        sendError(
          res,
          401,
          'a valid token is required (POST /api/login, then Authorization: Bearer <token>)',
        );
        return;
      }
      if (url.pathname === '/api/live') {
        this.listLive(res, url.searchParams);
        return;
      }
      const m = PATHS.exec(url.pathname)!;
      let loginCode: string;
      try {
        loginCode = decodeURIComponent(m[1]!);
      } catch {
        sendError(res, 400, 'login code in the path is not valid URL encoding');
        return;
      }
      const channel = Number(m[2]);
      const request: ChannelRequest = {
        method,
        loginCode,
        channel,
        key: `${loginCode}/${channel}`,
        body: await readJsonObject(req),
      };
      if (m[3] === 'live') await this.liveView(request, res);
      else await this.record(request, res);
    } catch (error) {
      if (error instanceof CommandError) sendError(res, error.status, error.message);
      else if (error instanceof BodyTooLargeError) sendError(res, 413, error.message);
      else throw error;
    }
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonObject(req);
    const o = this.options;
    if (!o) {
      sendError(res, 403, 'this platform has no API user (ivtfarm ivc --api-user)');
      return;
    }
    // Both compared, whatever the first gave: the time taken says nothing of which was wrong.
    const userOk = typeof body.user === 'string' && secretsEqual(body.user, o.user);
    const passwordOk = typeof body.password === 'string' && secretsEqual(body.password, o.password);
    if (!userOk || !passwordOk) {
      this.platform.stats.userApi.loginsRefused++;
      sendError(res, 401, 'wrong user or password');
      return;
    }
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(hashToken(token), Date.now() + this.ttlMs);
    while (this.tokens.size > this.maxTokens) this.tokens.delete(this.tokens.keys().next().value as string);
    this.platform.stats.userApi.logins++;
    sendJson(res, 200, { token, token_type: 'Bearer', expires_in: this.ttlMs / 1000 });
  }

  private authenticated(req: IncomingMessage): boolean {
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ')) return false;
    const key = hashToken(auth.slice(7).trim());
    const expiresAt = this.tokens.get(key);
    if (expiresAt === undefined) return false;
    if (Date.now() >= expiresAt) {
      this.tokens.delete(key);
      this.platform.stats.userApi.tokensExpired++;
      return false;
    }
    return true;
  }

  private async liveView(r: ChannelRequest, res: ServerResponse): Promise<void> {
    const { method, loginCode, channel, key, body } = r;
    const open = this.live.get(key);
    if (method === 'DELETE') {
      if (!open) throw new CommandError(404, `no live view of ${loginCode} channel ${channel}`);
      this.live.delete(key);
      // The device may have gone meanwhile: the view is closed on the platform's side either way.
      const answer = await this.commands.stopPublish(loginCode, channel, open.streamId).catch(() => null);
      sendJson(res, 200, { closed: true, stream_id: open.streamId, device_answered: answer !== null });
      return;
    }
    if (open) {
      sendJson(res, 200, this.liveJson(open));
      return;
    }
    if (this.live.size >= MAX_ORDERS) throw new CommandError(502, 'too many live views open');
    const quality = qualityOf(body.quality);
    const maxBitrate = nonNegative(body.max_bitrate, 'max_bitrate');
    const { streamId, url, answer } = await this.commands.publish(loginCode, {
      channel,
      quality,
      maxBitrate,
    });
    if ('err' in answer && answer.err) {
      sendError(res, 409, `the device refused RTMPPublish (error ${answer.err.code})`);
      return;
    }
    const view: LiveView = { loginCode, channel, streamId, url, quality, openedAt: Date.now() };
    this.live.set(key, view);
    this.platform.stats.userApi.liveOpened++;
    sendJson(res, 201, this.liveJson(view));
  }

  private async record(r: ChannelRequest, res: ServerResponse): Promise<void> {
    const { method, loginCode, channel, key, body } = r;
    const open = this.recordings.get(key);
    if (method === 'DELETE') {
      if (!open) throw new CommandError(404, `no recording of ${loginCode} channel ${channel}`);
      this.recordings.delete(key);
      const answer = await this.commands
        .stopCloudRecord(loginCode, channel, open.sessionId)
        .catch(() => null);
      sendJson(res, 200, { stopped: true, session_id: open.sessionId, device_answered: answer !== null });
      return;
    }
    if (open) {
      sendJson(res, 200, { session_id: open.sessionId, login_code: loginCode, channel });
      return;
    }
    if (this.recordings.size >= MAX_ORDERS) throw new CommandError(502, 'too many recordings running');
    const { sessionId, answer } = await this.commands.startCloudRecord(loginCode, {
      channel,
      quality: qualityOf(body.quality),
      max_bitrate: nonNegative(body.max_bitrate, 'max_bitrate'),
      ...optionalInt(body, 'seg_duration'),
      ...optionalInt(body, 'seg_max_size'),
      ...optionalInt(body, 'seg_max_count'),
      ...optionalInt(body, 'prerecord_seconds'),
    });
    if ('err' in answer && answer.err) {
      sendError(res, 409, `the device refused StartCloudRecord (error ${answer.err.code})`);
      return;
    }
    this.recordings.set(key, { sessionId, openedAt: Date.now() });
    this.platform.stats.userApi.recordingsStarted++;
    sendJson(res, 201, { session_id: sessionId, login_code: loginCode, channel });
  }

  /** `GET /api/live?limit=N`: the open live views, with what the ingest receives of each. */
  private listLive(res: ServerResponse, query: URLSearchParams): void {
    const limitText = query.get('limit');
    const limit = limitText === null ? 1000 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 0 || limit > 10_000) {
      sendError(res, 400, 'limit must be an integer from 0 to 10000');
      return;
    }
    const streams: Record<string, unknown>[] = [];
    for (const view of this.live.values()) {
      if (streams.length === limit) break;
      streams.push(this.liveJson(view));
    }
    sendJson(res, 200, { count: this.live.size, streams });
  }

  private liveJson(view: LiveView): Record<string, unknown> {
    const s = this.platform.ingest?.stream(ingestStreamName(view.streamId)) ?? null;
    return {
      login_code: view.loginCode,
      channel: view.channel,
      stream_id: view.streamId,
      url: view.url,
      quality: view.quality,
      opened_at: view.openedAt,
      // What the ingest sees: live once it accepted the publish, with its bitrate.
      live: s !== null && s.endedAt === null,
      live_at: s?.startedAt ?? null,
      bitrate: s?.bitrate ?? null,
      media_bytes: s?.mediaBytes ?? null,
    };
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function jsonOnly(req: IncomingMessage): { status: 415; message: string } | null {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json'
    ? null
    : { status: 415, message: 'POST requests must have Content-Type: application/json' };
}

async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req, MAX_BODY)).toString();
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CommandError(400, 'body must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CommandError(400, 'body must be a JSON object');
  return value as Record<string, unknown>;
}

function qualityOf(value: unknown): Quality {
  if (value === undefined) return 'sd';
  if (typeof value === 'string' && (QUALITIES as readonly string[]).includes(value)) return value as Quality;
  throw new CommandError(400, `quality must be one of ${QUALITIES.join(', ')}`);
}

function nonNegative(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw new CommandError(400, `${name} must be an integer >= 0`);
}

function optionalInt(body: Record<string, unknown>, name: string): Record<string, number> {
  return body[name] === undefined ? {} : { [name]: nonNegative(body[name], name) };
}
