// HTTP-FLV client: one GET whose body is an endless FLV stream; tags go to the playout meter as
// they complete. Plain node:http (one socket per player, no pooling: the response never ends).
import { type ClientRequest, request } from 'node:http';
import { FlvStreamError, FlvStreamReader } from './flv-stream.js';
import { PlayerBase } from './player-base.js';
import type { ViewerOptions } from './types.js';

export class HttpFlvPlayer extends PlayerBase {
  readonly protocol = 'http-flv' as const;
  private req: ClientRequest | null = null;
  private now = 0;
  private readonly reader = new FlvStreamReader((type, ts, body) => this.flvTag(type, ts, body, this.now));

  constructor(options: ViewerOptions) {
    super(options);
  }

  protected open(): void {
    const url = this.httpUrl();
    if (!url) return;
    const req = request(url, {
      agent: false,
      timeout: this.options.connectTimeoutMs ?? 10_000,
      ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}),
    });
    this.req = req;
    req.on('timeout', () => this.fail('connect_timeout', 'no response in time'));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') this.fail('connect_refused', 'cannot connect: ECONNREFUSED');
      else this.fail('socket_error', `socket error ${e.code ?? e.message}`);
    });
    req.on('response', (res) => {
      req.setTimeout(0);
      if (res.statusCode !== 200) {
        res.resume();
        this.fail('http_status', `HTTP ${res.statusCode} for ${url.pathname}`);
        return;
      }
      res.on('data', (d: Buffer) => {
        this.received(d.length);
        this.now = Date.now();
        try {
          this.reader.push(d);
        } catch (e) {
          if (!(e instanceof FlvStreamError)) throw e;
          this.fail('protocol_error', e.message);
        }
      });
      res.on('end', () => this.fail('closed', 'server ended the FLV stream'));
      res.on('error', () => this.fail('closed', 'FLV stream broken'));
    });
    req.end();
  }

  protected release(): void {
    this.req?.destroy();
  }
}
