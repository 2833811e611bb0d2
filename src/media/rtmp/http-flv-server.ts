// HTTP-FLV playback of the ingest's live streams: GET /<app>/<name>.flv answers an endless FLV
// (header, metadata, sequence headers, the cached GOP, then live tags), as SRS and
// nginx-http-flv-module do. 404 when no publisher is live on that name.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PlaybackHub, PlaybackSubscriber } from './playback.js';

export interface HttpFlvServerOptions {
  host?: string;
  /** 0 (default): a free port; read it back from address(). */
  port?: number;
}

const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]); // audio + video
const MAX_QUEUED = 2 * 1024 * 1024;

/** One FLV tag (header + body + PreviousTagSize) in a single buffer. */
function flvTag(type: number, timestamp: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(11 + body.length + 4);
  out[0] = type;
  out.writeUIntBE(body.length, 1, 3);
  out.writeUIntBE(timestamp & 0xffffff, 4, 3);
  out[7] = (timestamp >>> 24) & 0xff;
  out.writeUIntBE(0, 8, 3);
  body.copy(out, 11);
  out.writeUInt32BE(11 + body.length, 11 + body.length);
  return out;
}

export class HttpFlvServer {
  private readonly server: Server;

  constructor(
    private readonly hub: PlaybackHub,
    private readonly options: HttpFlvServerOptions = {},
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.address();
  }

  address(): { host: string; port: number } {
    const a = this.server.address();
    if (!a || typeof a === 'string') throw new Error('HTTP-FLV server is not listening');
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const m = /^\/(?:.+\/)?([^/]+)\.flv$/.exec(path);
    const name = m ? decodeURIComponent(m[1] as string) : null;
    if (req.method !== 'GET' || !name || !this.hub.isLive(name)) {
      res.writeHead(name ? 404 : 400, { 'content-type': 'text/plain' });
      res.end(name ? `no live stream ${name}\n` : 'GET /<app>/<name>.flv\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'video/x-flv', 'cache-control': 'no-cache' });
    res.write(FLV_HEADER);
    const sub: PlaybackSubscriber = {
      send: (type, timestamp, payload) => void res.write(flvTag(type, timestamp, payload)),
      congested: () => res.writableLength > MAX_QUEUED,
      unpublished: () => res.end(),
    };
    const unsubscribe = this.hub.subscribe(name, sub);
    res.once('close', unsubscribe);
  }
}
