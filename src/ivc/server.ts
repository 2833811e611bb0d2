import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { RtmpIngestServer } from '../media/rtmp/ingest-server.js';
import { handleAdminApi } from './admin-api.js';
import { receiveAlarmPicture } from './alarm-upload.js';
import { IvcCommands } from './commands.js';
import { serveFirmware } from './firmware.js';
import { refuseUpgrade, sendError } from './http-util.js';
import { handleDeviceUpgrade } from './login.js';
import { monitorPageHtml } from './monitor-page.js';
import { type IvcOptions, resolveOptions } from './options.js';
import { IvcPlatform } from './platform.js';

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
  const ingest = o.rtmpIngest ? await startIngest(o.host, o.rtmpIngest) : null;
  const platform = new IvcPlatform(o);
  platform.ingest = ingest;
  const commands = new IvcCommands(platform);
  const devices = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: o.maxPayload });
  const monitors = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });

  const server = createServer((req, res) => {
    route(platform, commands, req, res).catch((error: Error) => {
      if (!res.headersSent) sendError(res, 500, `internal error: ${error.message}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://ivc');
    if (url.pathname === '/ivc') {
      handleDeviceUpgrade(platform, devices, req, socket, head, url.searchParams);
    } else if (url.pathname === '/monitor') {
      const loginCode = url.searchParams.get('login_code');
      socket.on('error', () => {});
      if (!loginCode) refuseUpgrade(socket, 400, 'missing query field: login_code');
      else monitors.handleUpgrade(req, socket, head, (ws) => platform.monitor.attach(ws, loginCode));
    } else {
      refuseUpgrade(socket, 404, `no WebSocket endpoint at ${url.pathname} (devices use /ivc)`);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      platform.close();
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
      for (const ws of devices.clients) ws.terminate();
      for (const ws of monitors.clients) ws.terminate();
      await Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
        ingest?.close(),
      ]);
    },
  };
}

/** Starts the RTMP ingest beside the platform, with the same clear message for a taken port. */
async function startIngest(
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

/** Plain HTTP routes; WebSocket upgrades are handled above. */
async function route(
  platform: IvcPlatform,
  commands: IvcCommands,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://ivc');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path.startsWith('/api/')) {
    await handleAdminApi(platform, commands, req, res, url);
    return;
  }
  const parts = path.split('/');
  if ((method === 'GET' || method === 'HEAD') && path === '/') {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(monitorPageHtml),
      // The page loads nothing from elsewhere; say so to the browser too.
      'content-security-policy':
        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
    });
    res.end(method === 'HEAD' ? undefined : monitorPageHtml);
  } else if ((method === 'GET' || method === 'HEAD') && parts[1] === 'firmware' && parts.length === 3) {
    serveFirmware(platform, parts[2]!, req, res);
  } else if (method === 'POST' && parts[1] === 'upload' && parts[2] === 'alarm' && parts.length === 5) {
    receiveAlarmPicture(platform, safeDecode(parts[3]!), Number(parts[4]), req, res);
  } else if (method === 'POST' && parts[1] === 'record' && parts.length === 3) {
    await platform.recordings.handleCallback(parts[2]!, req, res);
  } else if (method === 'PUT' && parts[1] === 'upload' && parts[2] === 'record' && parts.length === 5) {
    platform.recordings.handleUpload(parts[3]!, parts[4]!, req, res);
  } else {
    req.resume();
    sendError(res, 404, `not found: ${method} ${path}`);
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
