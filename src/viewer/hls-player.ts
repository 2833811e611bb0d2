// HLS client: reads the playlist (following a master playlist's first variant), starts
// `liveEdgeSegments` segments from the live edge as hls.js and Apple's players do, then downloads
// each new segment once, streaming its bytes through the TS reader so frames reach the playout
// meter as they arrive. Reloads the playlist every half target duration (RFC 8216 6.3.4 for an
// unchanged playlist; a simple, slightly eager rule for a changed one).
import { Agent, type ClientRequest, request } from 'node:http';
import { type MediaPlaylist, PlaylistError, parsePlaylist } from './hls-playlist.js';
import { PlayerBase } from './player-base.js';
import { TsStreamError, TsVideoReader } from './ts-video.js';
import type { ViewerOptions } from './types.js';

export interface HlsViewerOptions extends ViewerOptions {
  /** Segments behind the live edge to start at (default 3). */
  liveEdgeSegments?: number;
}

/** One keep-alive pool for every HLS player of the process: playlists and segments reuse sockets. */
const sharedAgent = new Agent({
  keepAlive: true,
  maxSockets: Number.POSITIVE_INFINITY,
  maxFreeSockets: 4096,
});

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

const DEFAULT_LIVE_EDGE_SEGMENTS = 3;

export class HlsPlayer extends PlayerBase {
  readonly protocol = 'hls' as const;
  private req: ClientRequest | null = null;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private readonly agent: Agent;
  private now = 0;
  private readonly ts = new TsVideoReader((ptsMs, key, clock) =>
    this.meter.frame(ptsMs, key, clock, this.now),
  );

  constructor(private readonly hls: HlsViewerOptions) {
    super(hls);
    this.agent = hls.localAddress
      ? new Agent({ keepAlive: true, maxSockets: 1, localAddress: hls.localAddress } as ConstructorParameters<
          typeof Agent
        >[0])
      : sharedAgent;
  }

  protected open(): void {
    const url = this.httpUrl();
    if (url) this.run(url).catch((e: unknown) => this.onError(e));
  }

  protected release(): void {
    this.req?.destroy();
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    if (this.agent !== sharedAgent) this.agent.destroy();
  }

  private async run(start: URL): Promise<void> {
    let playlistUrl = start;
    let playlist = await this.playlist(playlistUrl);
    while (playlist.kind === 'master') {
      playlistUrl = new URL(playlist.variantUri, playlistUrl);
      playlist = await this.playlist(playlistUrl);
    }
    const edge = this.hls.liveEdgeSegments ?? DEFAULT_LIVE_EDGE_SEGMENTS;
    let next = playlist.mediaSequence + Math.max(0, playlist.segments.length - edge);
    let media: MediaPlaylist = playlist;
    while (this.active) {
      const polled = Date.now();
      if (next < media.mediaSequence) next = media.mediaSequence; // fell out of the window
      for (let i = next - media.mediaSequence; i < media.segments.length && this.active; i++) {
        await this.segment(new URL((media.segments[i] as { uri: string }).uri, playlistUrl));
        next = media.mediaSequence + i + 1;
      }
      if (media.ended) {
        this.fail('closed', 'playlist ended (#EXT-X-ENDLIST)');
        return;
      }
      await this.sleep(Math.max(0, polled + media.targetDurationMs / 2 - Date.now()));
      if (!this.active) return;
      const p = await this.playlist(playlistUrl);
      if (p.kind === 'master') throw new PlaylistError('media playlist turned into a master playlist');
      media = p;
    }
  }

  private async playlist(url: URL) {
    const parts: Buffer[] = [];
    await this.get(url, (d) => parts.push(d));
    return parsePlaylist(Buffer.concat(parts).toString('utf8'));
  }

  private async segment(url: URL): Promise<void> {
    await this.get(url, (d) => this.ts.push(d));
    this.now = Date.now();
    this.ts.flush();
  }

  private get(url: URL, onData: (d: Buffer) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const req = request(url, { agent: this.agent, timeout: this.options.connectTimeoutMs ?? 10_000 });
      this.req = req;
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new HttpStatusError(res.statusCode ?? 0));
          return;
        }
        res.on('data', (d: Buffer) => {
          this.received(d.length);
          this.now = Date.now();
          try {
            onData(d);
          } catch (e) {
            req.destroy();
            reject(e);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      req.end();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  private onError(e: unknown): void {
    if (!this.active) return;
    if (e instanceof HttpStatusError) this.fail('http_status', e.message);
    else if (e instanceof PlaylistError || e instanceof TsStreamError) this.fail('protocol_error', e.message);
    else {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      if (code === 'ECONNREFUSED') this.fail('connect_refused', 'cannot connect: ECONNREFUSED');
      else if (code === 'ETIMEDOUT') this.fail('connect_timeout', 'no HTTP response in time');
      else this.fail('socket_error', `HTTP request failed: ${code}`);
    }
  }
}
