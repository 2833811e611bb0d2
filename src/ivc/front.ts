// The front of `ivtfarm ivc --processes N` (cluster.ts): one admin API for the platform processes.
// It holds no device: `/api/stats` adds up the children's, device pages walk the children in
// turn, a device's record and commands go to the child where its session lives (asked of all at
// once), the monitor socket is bridged to that child. It checks who asks with the same AdminGuard
// as a single platform, then calls the children over loopback HTTP with the admin token.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { targetUrlFor } from '../core/target-choice.js';
import type { RtmpIngestServer } from '../media/rtmp/ingest-server.js';
import { adminMethodsFor, browserSession, rtmpInOf } from './admin-api.js';
import { AdminGuard } from './admin-guard.js';
import { conformanceRules } from './conformance.js';
import { type FrontChild, PlatformChildren } from './front-children.js';
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
const GET = ['GET', 'HEAD'];

/** Starts the front on `options.host:options.port`; `children()` is read on each request (restarts). */
export async function startFront(
  options: IvcOptions,
  children: () => readonly FrontChild[],
): Promise<RunningFront> {
  const o = resolveOptions(options);
  const guard = new AdminGuard(o);
  const wildcard = o.host === '0.0.0.0' || o.host === '::' || o.host === '';
  const platform = new PlatformChildren(
    children,
    o.adminToken,
    wildcard ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host,
  );
  const ingest: RtmpIngestServer | null = o.rtmpIngest ? await startIngest(o.host, o.rtmpIngest) : null;
  const monitors = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });

  /**
   * A child's device record with each channel's `rtmp_in` from the front's ingest (a child has no
   * ingest), placed as one platform places it: the record reads the same in one process or several.
   */
  const withIngest = (record: Record<string, unknown>): Record<string, unknown> => {
    if (!ingest || !Array.isArray(record.channels)) return record;
    const channels = (record.channels as Array<Record<string, unknown>>).map(({ record_in, ...ch }) => ({
      ...ch,
      ...rtmpInOf(ingest, ch.stream_id),
      ...(record_in === undefined ? {} : { record_in }),
    }));
    return { ...record, channels };
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
    const found = await platform.home(loginCode);
    if (parts.length === 2) {
      if (found) sendJson(res, 200, { ...withIngest(found.record), process: found.child.index });
      else sendError(res, 404, `unknown device ${loginCode.slice(0, 300)}`);
      return;
    }
    if (found?.record.online !== true) {
      sendError(res, 404, `device ${loginCode.slice(0, 300)} is not online`);
      return;
    }
    const a = await platform.call(found.child, 'POST', `${url.pathname}${url.search}`, body);
    sendJson(res, a.status, a.body);
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
    if (parts[0] === 'stats') sendJson(res, 200, await platform.stats());
    else if (parts[0] === 'gateways')
      sendJson(res, 200, { device_urls: children().map((c) => c.url), processes: children().length });
    else if (parts[0] === 'rules') sendJson(res, 200, conformanceRules);
    else if (parts[0] === 'streams') {
      if (ingest) sendJson(res, 200, { live: ingest.liveCount, streams: ingest.stats() });
      else sendError(res, 404, 'no RTMP ingest runs with this platform (option rtmpIngest)');
    } else if (parts[0] === 'recordings') {
      const hit = await platform.first(`/api/recordings/${parts[1]}`);
      if (hit) sendJson(res, 200, hit.body);
      else sendError(res, 404, `unknown recording ${parts[1]!.slice(0, 300)}`);
    } else if (parts.length === 1) {
      const page = await platform.devicesPage(url.searchParams);
      const body = page.body as { devices?: Array<Record<string, unknown>> };
      if (page.status === 200 && body.devices) body.devices = body.devices.map(withIngest);
      sendJson(res, page.status, body);
    } else await device(req, res, parts, url);
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
        void platform
          .home(loginCode)
          .then((found) =>
            monitors.handleUpgrade(req, socket, head, (ws) =>
              bridge(ws, found?.child ?? children()[0]!, loginCode),
            ),
          );
    } else refuseUpgrade(socket, 404, `no WebSocket endpoint at ${url?.pathname ?? '?'}`);
  });

  /** The page's socket joined to the monitor of the child that has the device. */
  const bridge = (page: WebSocket, child: FrontChild, loginCode: string): void => {
    const upstream = new WebSocket(
      `ws://${platform.base(child).slice('http://'.length)}/monitor?login_code=${encodeURIComponent(loginCode)}`,
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
