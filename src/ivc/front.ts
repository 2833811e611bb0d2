// The front of `ivtfarm ivc --processes N` (cluster.ts): one admin API for the platform processes.
// It holds no device: `/api/stats` adds up the children's, device pages walk the children in
// turn, a device's record and commands go to the child where its session lives (asked of all at
// once), the monitor socket is bridged to that child. It checks who asks with the same AdminGuard
// as a single platform, then calls the children over loopback HTTP with the admin token.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { targetUrlFor } from '../farm/target-choice.js';
import type { RtmpIngestServer } from '../media/rtmp/ingest-server.js';
import { adminMethodsFor, browserSession } from './admin-api.js';
import { AdminGuard } from './admin-guard.js';
import { conformanceRules } from './conformance.js';
import {
  BodyTooLargeError,
  closeServer,
  readBody,
  refuseUpgrade,
  requestUrl,
  sendError,
  sendJson,
} from './http-util.js';
import { sendMonitorPage } from './monitor-page.js';
import { type IvcOptions, resolveOptions } from './options.js';
import { startIngest } from './server.js';

/** What the front knows of one platform process. */
export interface FrontChild {
  index: number;
  /** Its device endpoint `ws://host:port/ivc`. */
  url: string;
  /** Its own `http://host:port` (firmware, uploads, recordings of its devices). */
  httpUrl: string;
  port: number;
  pid: number;
  /** Times it was restarted after an exit. */
  restarts: number;
}

export interface RunningFront {
  /** `http://host:port`: the admin API, `/api/stats` of the whole, the monitor page. */
  httpUrl: string;
  host: string;
  port: number;
  /** `rtmp://host:port/live` of the ingest (in the front) when `rtmpIngest` is on, else null. */
  rtmpUrl: string | null;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
const GET = ['GET', 'HEAD'];

interface ChildAnswer {
  status: number;
  body: unknown;
}

/** Calls the children's admin API over loopback, as the operator (with the admin token). */
class ChildCalls {
  constructor(
    private readonly token: string | null,
    private readonly connectHost: string,
  ) {}

  base(child: FrontChild): string {
    return `http://${this.connectHost}:${child.port}`;
  }

  async call(child: FrontChild, method: string, path: string, body?: string): Promise<ChildAnswer> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(`${this.base(child)}${path}`, { method, headers, body });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
    } catch (error) {
      return {
        status: 502,
        body: { error: `platform process ${child.index} did not answer: ${(error as Error).message}` },
      };
    }
  }

  all(children: readonly FrontChild[], path: string): Promise<ChildAnswer[]> {
    return Promise.all(children.map((c) => this.call(c, 'GET', path)));
  }
}

/** Adds `from` into `into`: numbers add up, objects recursively; anything else is kept from the first. */
function addUp(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(from)) {
    const current = into[key];
    if (typeof value === 'number' && (typeof current === 'number' || current === undefined))
      into[key] = (current ?? 0) + value;
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const nested = (typeof current === 'object' && current !== null ? current : {}) as Record<
        string,
        unknown
      >;
      addUp(nested, value as Record<string, unknown>);
      into[key] = nested;
    } else if (current === undefined) into[key] = value;
  }
}

/** Starts the front on `options.host:options.port`; `children()` is read on each request (restarts). */
export async function startFront(
  options: IvcOptions,
  children: () => readonly FrontChild[],
): Promise<RunningFront> {
  const o = resolveOptions(options);
  const guard = new AdminGuard(o);
  const wildcard = o.host === '0.0.0.0' || o.host === '::' || o.host === '';
  const calls = new ChildCalls(
    o.adminToken,
    wildcard ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host,
  );
  const ingest: RtmpIngestServer | null = o.rtmpIngest ? await startIngest(o.host, o.rtmpIngest) : null;
  const monitors = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });
  const startedAt = Date.now();

  /** The child where `loginCode` is online now (else where it was last seen), with its record. */
  const owner = async (
    loginCode: string,
  ): Promise<{ child: FrontChild; record: Record<string, unknown> } | null> => {
    const list = children();
    const answers = await calls.all(list, `/api/devices/${encodeURIComponent(loginCode)}`);
    let found: { child: FrontChild; record: Record<string, unknown> } | null = null;
    for (const [i, a] of answers.entries()) {
      if (a.status !== 200) continue;
      const record = a.body as Record<string, unknown>;
      if (record.online === true) return { child: list[i]!, record };
      if (!found || String(record.connected_at) > String(found.record.connected_at))
        found = { child: list[i]!, record };
    }
    return found;
  };

  const stats = async (res: ServerResponse): Promise<void> => {
    const list = children();
    const answers = await calls.all(list, '/api/stats');
    const whole: Record<string, unknown> = {};
    const processes = answers.map((a, i) => {
      const s = (a.status === 200 ? a.body : {}) as Record<string, unknown> & { process?: unknown };
      const { process: usage, uptime_s: _uptime, ...counters } = s;
      if (a.status === 200) addUp(whole, counters);
      return {
        index: list[i]!.index,
        pid: list[i]!.pid,
        url: list[i]!.url,
        answered: a.status === 200,
        restarts: list[i]!.restarts,
        online: typeof s.online === 'number' ? s.online : null,
        ...(typeof usage === 'object' && usage !== null ? usage : {}),
      };
    });
    const memory = process.memoryUsage();
    sendJson(res, 200, {
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      ...whole,
      processes,
      front: {
        rss_mb: Math.round(memory.rss / 2 ** 20),
        heap_used_mb: Math.round(memory.heapUsed / 2 ** 20),
      },
    });
  };

  /** One page over all children in turn; `next` is `<child>.<that child's next>`. */
  const listDevices = async (res: ServerResponse, query: URLSearchParams): Promise<void> => {
    const limitText = query.get('limit');
    const limit = limitText === null ? DEFAULT_PAGE : Number(limitText);
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_PAGE) {
      sendError(res, 400, `limit must be an integer from 0 to ${MAX_PAGE}`);
      return;
    }
    const list = children();
    const cursor = /^(\d+)\.(\d+)$/.exec(query.get('after') ?? '0.0');
    if (!cursor || Number(cursor[1]) > list.length) {
      sendError(res, 400, 'after must be the next of a previous page');
      return;
    }
    const onlineOnly = query.get('online') === '1' || query.get('online') === 'true';
    const filter = onlineOnly ? '&online=1' : '';
    const counts = await calls.all(list, '/api/devices?limit=0');
    const online = counts.reduce((n, a) => n + ((a.body as { online?: number } | null)?.online ?? 0), 0);
    const devices: unknown[] = [];
    let next: string | null = null;
    let after = cursor[2]!;
    for (let c = Number(cursor[1]); c < list.length; c++, after = '0') {
      if (devices.length === limit) {
        next = `${c}.0`;
        break;
      }
      const a = await calls.call(
        list[c]!,
        'GET',
        `/api/devices?limit=${limit - devices.length}&after=${after}${filter}`,
      );
      if (a.status !== 200) {
        sendJson(res, a.status, a.body);
        return;
      }
      const page = a.body as { devices: unknown[]; next: string | null };
      devices.push(...page.devices);
      if (page.next !== null) {
        next = `${c}.${page.next}`;
        break;
      }
    }
    sendJson(res, 200, { count: devices.length, online, next, devices });
  };

  const device = async (
    req: IncomingMessage,
    res: ServerResponse,
    parts: string[],
    url: URL,
  ): Promise<void> => {
    let loginCode: string;
    try {
      loginCode = decodeURIComponent(parts[1]!);
    } catch {
      sendError(res, 400, 'login code in the path is not valid URL encoding');
      return;
    }
    const body = req.method === 'POST' ? (await readBody(req, MAX_BODY)).toString() : undefined;
    const found = await owner(loginCode);
    if (parts.length === 2) {
      if (found) sendJson(res, 200, { ...found.record, process: found.child.index });
      else sendError(res, 404, `unknown device ${loginCode.slice(0, 300)}`);
      return;
    }
    if (found?.record.online !== true) {
      sendError(res, 404, `device ${loginCode.slice(0, 300)} is not online`);
      return;
    }
    const a = await calls.call(found.child, 'POST', `${url.pathname}${url.search}`, body);
    sendJson(res, a.status, a.body);
  };

  const firstFound = async (res: ServerResponse, path: string, what: string): Promise<void> => {
    const answers = await calls.all(children(), path);
    const hit = answers.find((a) => a.status === 200);
    if (hit) sendJson(res, 200, hit.body);
    else sendError(res, 404, `unknown ${what}`);
  };

  const adminApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const parts = url.pathname.split('/').slice(2);
    if (parts[0] === 'session') {
      await browserSession(guard, req, res);
      return;
    }
    const refusal = guard.check(req, req.method === 'POST');
    if (refusal) {
      req.resume();
      sendError(res, refusal.status, refusal.message);
      return;
    }
    if (parts[0] === 'stats') await stats(res);
    else if (parts[0] === 'gateways')
      sendJson(res, 200, { device_urls: children().map((c) => c.url), processes: children().length });
    else if (parts[0] === 'rules') sendJson(res, 200, conformanceRules);
    else if (parts[0] === 'streams') {
      if (ingest) sendJson(res, 200, { live: ingest.liveCount, streams: ingest.stats() });
      else sendError(res, 404, 'no RTMP ingest runs with this platform (option rtmpIngest)');
    } else if (parts[0] === 'recordings')
      await firstFound(res, `/api/recordings/${parts[1]}`, `recording ${parts[1]!.slice(0, 300)}`);
    else if (parts.length === 1) await listDevices(res, url.searchParams);
    else await device(req, res, parts, url);
  };

  const server = createServer(
    { headersTimeout: o.handshakeTimeoutMs, requestTimeout: o.requestTimeoutMs },
    (req, res) => {
      const url = requestUrl(req);
      const method = req.method ?? 'GET';
      const parts = url?.pathname.split('/') ?? [];
      const allowed =
        parts[1] === 'api'
          ? parts.length === 3 && parts[2] === 'gateways'
            ? GET
            : adminMethodsFor(parts.slice(2))
          : parts.length === 2 && (parts[1] === '' || parts[1] === 'ivc' || parts[1] === 'monitor')
            ? GET
            : null;
      if (!url || !allowed?.includes(method)) {
        req.resume();
        if (allowed) res.setHeader('allow', allowed.join(', '));
        sendError(
          res,
          !url ? 400 : allowed ? 405 : 404,
          `${allowed ? 'method not allowed' : 'not found'}: ${method} ${url?.pathname ?? ''}`,
        );
        return;
      }
      const done = (error: Error) => {
        if (res.headersSent) res.destroy();
        else if (error instanceof BodyTooLargeError) sendError(res, 413, error.message);
        else sendError(res, 500, `internal error: ${error.message}`);
      };
      if (parts[1] === 'api') adminApi(req, res, url).catch(done);
      else if (parts[1] === '') {
        const refusal = guard.checkSite(req);
        if (refusal) sendError(res, refusal.status, refusal.message);
        else sendMonitorPage(res, method);
      } else sendError(res, 426, `${url.pathname} is a WebSocket endpoint`);
    },
  );

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const url = requestUrl(req);
    const loginCode = url?.searchParams.get('login_code') ?? '';
    if (url?.pathname === '/ivc') {
      // The front holds no device: point it at the process the farm would pick for it.
      const urls = children().map((c) => c.url);
      const to = new URL(loginCode ? targetUrlFor(loginCode, urls) : urls[0]!);
      to.search = url.search;
      refuseUpgrade(
        socket,
        307,
        `devices connect to one of the platform processes: ${urls.join(' ')}`,
        `Location: ${to.toString()}\r\n`,
      );
    } else if (url?.pathname === '/monitor') {
      const refusal = guard.check(req, false);
      if (refusal) refuseUpgrade(socket, refusal.status, refusal.message);
      else if (!loginCode) refuseUpgrade(socket, 400, 'missing query field: login_code');
      else
        void owner(loginCode).then((found) =>
          monitors.handleUpgrade(req, socket, head, (ws) =>
            bridge(ws, found?.child ?? children()[0]!, loginCode),
          ),
        );
    } else refuseUpgrade(socket, 404, `no WebSocket endpoint at ${url?.pathname ?? '?'}`);
  });

  /** The page's socket joined to the monitor of the child that has the device. */
  const bridge = (page: WebSocket, child: FrontChild, loginCode: string): void => {
    const upstream = new WebSocket(
      `ws://${calls.base(child).slice('http://'.length)}/monitor?login_code=${encodeURIComponent(loginCode)}`,
      { headers: o.adminToken ? { authorization: `Bearer ${o.adminToken}` } : {}, perMessageDeflate: false },
    );
    const pending: string[] = [];
    upstream.on('open', () => {
      for (const text of pending.splice(0)) upstream.send(text);
    });
    upstream.on('message', (data) => {
      if (page.readyState === page.OPEN) page.send(data.toString());
    });
    page.on('message', (data) => {
      if (upstream.readyState === upstream.OPEN) upstream.send(data.toString());
      else pending.push(data.toString());
    });
    const end = () => {
      page.close();
      upstream.close();
    };
    upstream.on('close', end);
    upstream.on('error', end);
    page.on('close', end);
    page.on('error', end);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      void ingest?.close();
      reject(
        error.code === 'EADDRINUSE' ? new Error(`port ${o.port} is already in use on ${o.host}`) : error,
      );
    });
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  guard.listening(port);
  const host = o.publicHost ?? o.host;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    httpUrl: `http://${hostPart}:${port}`,
    host: o.host,
    port,
    rtmpUrl: ingest ? `rtmp://${hostPart}:${ingest.address().port}/live` : null,
    close: async () => {
      for (const ws of monitors.clients) ws.terminate();
      await Promise.all([closeServer(server), ingest?.close()]);
    },
  };
}
