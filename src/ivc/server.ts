import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { RtmpIngestServer } from '../media/rtmp/ingest-server.js';
import { adminMethodsFor, handleAdminApi } from './admin-api.js';
import { AdminGuard } from './admin-guard.js';
import { receiveAlarmPicture } from './alarm-upload.js';
import { IvcCommands } from './commands.js';
import { serveFirmware } from './firmware.js';
import { HandshakeDeadline } from './handshake-deadline.js';
import { closeServer, refuseUpgrade, requestUrl, sendError } from './http-util.js';
import { handleDeviceUpgrade } from './login.js';
import { sendMonitorPage } from './monitor-page.js';
import { type IvcOptions, resolveOptions } from './options.js';
import { IvcPlatform } from './platform.js';
import { UserApi, userApiMethodsFor } from './user-api.js';

/** A reference platform listening on its port. */
export interface RunningIvc {
  /** Device endpoint, `ws://host:port/ivc` (devices append the login query). */
  url: string;
  /** `http://host:port`: admin API, monitor page, firmware, upload and record endpoints. */
  httpUrl: string;
  host: string;
  port: number;
  /** `rtmp://host:port/live` of the ingest server when `rtmpIngest` is on, else null. */
  rtmpUrl: string | null;
  /** Command plans: rpc/event/publish/record, devicesOnline(), onDeviceOnline(). */
  commands: IvcCommands;
  /** State and counters (devices, sessions, stats) for in-process readers. */
  platform: IvcPlatform;
  /** Disconnects every device and stops listening. */
  close(): Promise<void>;
}

/** Starts the reference IVC. Rejects with a clear message when the port is taken. */
export async function startIvc(options: IvcOptions = {}): Promise<RunningIvc> {
  const o = resolveOptions(options);
  const guard = new AdminGuard(o);
  const ingest = o.rtmpIngest ? await startIngest(o.host, o.rtmpIngest) : null;
  const platform = new IvcPlatform(o);
  platform.ingest = ingest;
  const commands = new IvcCommands(platform);
  const userApi = new UserApi(platform, commands, guard, o.userApi);
  const devices = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: o.maxPayload });
  const monitors = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });

  const server = createServer(
    {
      // Node's own deadlines for what follows the first request head (see HandshakeDeadline).
      headersTimeout: o.handshakeTimeoutMs,
      requestTimeout: Math.max(o.requestTimeoutMs, o.handshakeTimeoutMs),
      connectionsCheckingInterval: Math.max(20, Math.min(1000, o.handshakeTimeoutMs / 4)),
    },
    (req, res) => {
      route(platform, commands, guard, userApi, req, res).catch((error: Error) => {
        if (!res.headersSent) sendError(res, 500, `internal error: ${error.message}`);
        else res.destroy();
      });
    },
  );
  // An idle kept-alive connection is closed as soon as a new one that sends nothing would be.
  server.keepAliveTimeout = o.handshakeTimeoutMs;
  const handshakes = new HandshakeDeadline(
    server,
    o.handshakeTimeoutMs,
    () => platform.stats.connectionTimeouts++,
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Node's own answer (400, 408, 431), with request timeouts counted.
    if (socket.destroyed) return; // already closed by the handshake deadline, and counted there
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (timeout) platform.stats.connectionTimeouts++;
    const status = timeout ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const pending = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
    if (socket.writable && !pending?.headersSent) {
      const answer = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
      socket.end(answer, () => socket.destroy());
    } else {
      socket.destroy();
    }
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = requestUrl(req);
    if (req.method !== 'GET') {
      // A WebSocket handshake is a GET (RFC 6455); the answer to a HEAD must have no body.
      socket.on('error', () => {});
      if (req.method === 'HEAD')
        socket.end(
          'HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
        );
      else refuseUpgrade(socket, 405, 'a WebSocket handshake is a GET', 'Allow: GET\r\n');
    } else if (!url) {
      socket.on('error', () => {});
      refuseUpgrade(socket, 400, 'the request target is not a path');
    } else if (url.pathname === '/ivc') {
      handleDeviceUpgrade(platform, devices, req, socket, head, url.searchParams);
    } else if (url.pathname === '/monitor') {
      const loginCode = url.searchParams.get('login_code');
      socket.on('error', () => {});
      const refusal = guard.check(req, false);
      if (refusal) refuseUpgrade(socket, refusal.status, refusal.message);
      else if (!loginCode) refuseUpgrade(socket, 400, 'missing query field: login_code');
      else monitors.handleUpgrade(req, socket, head, (ws) => platform.monitor.attach(ws, loginCode));
    } else {
      refuseUpgrade(socket, 404, `no WebSocket endpoint at ${url.pathname} (devices use /ivc)`);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      platform.close();
      handshakes.close();
      void ingest?.close();
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${o.port} is already in use on ${o.host}`)
          : error.code === 'EADDRNOTAVAIL'
            ? new Error(`address ${o.host} is not available on this machine`)
            : error,
      );
    });
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  guard.listening(port);
  const host = o.publicHost ?? o.host;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const httpUrl = `http://${hostPart}:${port}`;
  platform.httpBase = httpUrl;
  const rtmpUrl = ingest ? `rtmp://${hostPart}:${ingest.address().port}/live` : null;
  if (rtmpUrl && o.rtmpUrlBase === null) o.rtmpUrlBase = rtmpUrl;

  return {
    url: `ws://${hostPart}:${port}/ivc`,
    httpUrl,
    host: o.host,
    port,
    rtmpUrl,
    commands,
    platform,
    close: async () => {
      platform.close();
      handshakes.close();
      for (const ws of devices.clients) ws.terminate();
      for (const ws of monitors.clients) ws.terminate();
      await Promise.all([closeServer(server), ingest?.close()]);
    },
  };
}

/** Starts the RTMP ingest beside the platform, with the same clear message for a taken port. */
export async function startIngest(
  host: string,
  options: { port: number; discard: boolean; maxStreams: number },
): Promise<RtmpIngestServer> {
  const ingest: RtmpIngestServer = new RtmpIngestServer({
    host,
    port: options.port,
    discard: options.discard,
    authorize: () => ingest.liveCount < options.maxStreams,
  });
  try {
    await ingest.listen();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`RTMP port ${options.port} is already in use on ${host}`);
    }
    throw error;
  }
  return ingest;
}

/** The methods each path accepts; null when there is no such path. */
function methodsFor(parts: readonly string[]): readonly string[] | null {
  const [, first, second] = parts;
  const n = parts.length;
  if (n === 2 && (first === '' || first === 'ivc' || first === 'monitor')) return ['GET', 'HEAD'];
  if (first === 'api') return userApiMethodsFor(parts.join('/')) ?? adminMethodsFor(parts.slice(2));
  if (n === 3 && first === 'firmware') return ['GET', 'HEAD'];
  if (n === 3 && first === 'record') return ['POST'];
  if (n === 5 && first === 'upload' && second === 'alarm') return ['POST'];
  if (n === 5 && first === 'upload' && second === 'record') return ['PUT'];
  return null;
}

/** Plain HTTP routes; WebSocket upgrades are handled above. */
async function route(
  platform: IvcPlatform,
  commands: IvcCommands,
  guard: AdminGuard,
  userApi: UserApi,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = requestUrl(req);
  if (!url) {
    req.resume();
    sendError(res, 400, 'the request target is not a path');
    return;
  }
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const parts = path.split('/');
  const allowed = methodsFor(parts);
  if (!allowed?.includes(method)) {
    req.resume();
    if (allowed) res.setHeader('allow', allowed.join(', '));
    sendError(res, allowed ? 405 : 404, `${allowed ? 'method not allowed' : 'not found'}: ${method} ${path}`);
    return;
  }
  if (parts[1] === 'api' && userApiMethodsFor(path)) {
    await userApi.handle(req, res, url);
  } else if (parts[1] === 'api') {
    await handleAdminApi(platform, commands, guard, req, res, url);
  } else if (path === '/') {
    // The page holds no data (it asks the API), but it is only served under the platform's names.
    const refusal = guard.checkSite(req);
    if (refusal) {
      sendError(res, refusal.status, refusal.message);
      return;
    }
    sendMonitorPage(res, method);
  } else if (parts[1] === 'ivc' || parts[1] === 'monitor') {
    sendError(res, 426, `${path} is a WebSocket endpoint`);
  } else if (parts[1] === 'firmware') {
    serveFirmware(platform, parts[2]!, req, res);
  } else if (parts[1] === 'upload' && parts[2] === 'alarm') {
    receiveAlarmPicture(platform, safeDecode(parts[3]!), Number(parts[4]), req, res);
  } else if (parts[1] === 'record') {
    await platform.recordings.handleCallback(safeDecode(parts[2]!), req, res);
  } else {
    platform.recordings.handleUpload(safeDecode(parts[3]!), parts[4]!, req, res);
  }
}
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
