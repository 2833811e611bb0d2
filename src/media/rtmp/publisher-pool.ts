// Per-worker front of the RTMP publisher: one scheduler, one parsed FLV per file shared by every
// stream, source addresses handed out round-robin, and running totals for the worker's metrics.
// `publish()` returns at once (the device answers RTMPPublish before the push is up); a failure at
// any later point is reported once through `onFailed`, never after `stop()`.
import { type FlvFile, loadFlv } from '../flv.js';
import { type RtmpFailureReason, RtmpPublishError } from './errors.js';
import { PublishScheduler, type SchedulerOptions } from './pacer.js';
import { type PublisherObserver, RtmpPublisher, type WriteMode } from './publisher.js';

export interface PublisherPoolOptions {
  windowMs?: number;
  slices?: number;
  /** Local addresses to bind, used in turn (e.g. 127.0.0.2 … to spread source ports). */
  sourceAddresses?: readonly string[];
  writeMode?: WriteMode;
  /** Stamp key frames with the send time for viewers (default true; see RtmpPublisher). */
  clock?: boolean;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  publishTimeoutMs?: number;
  /** Metric hooks (record into the worker's histograms/counters). */
  onStartLatency?: (ms: number) => void;
  onLag?: (ms: number) => void;
  onFailure?: (reason: RtmpFailureReason) => void;
  onTick?: SchedulerOptions['onTick'];
}

export interface PublishRequest {
  /** rtmp://host[:port]/app/stream as the platform gave it. */
  url: string;
  /** The rendition's FLV; parsed once per pool and shared. */
  flvPath: string;
  /** Called at most once, when the push fails (never after stop()). */
  onFailed?: (error: RtmpPublishError) => void;
  /** Called once on NetStream.Publish.Start (never after stop()). */
  onStarted?: (publisher: RtmpPublisher) => void;
}

export interface PublishTask {
  /** Idempotent; does not call onFailed. Resolves when the connection is closed. */
  stop(): Promise<void>;
  /** The underlying publisher once media is loaded (null before). */
  readonly publisher: RtmpPublisher | null;
}

export interface PoolSnapshot {
  /** Publishers connecting or streaming. */
  readonly active: number;
  readonly streaming: number;
  /** Publish.Start received, since the pool was made. */
  readonly started: number;
  readonly failures: Readonly<Partial<Record<RtmpFailureReason, number>>>;
  /** Wire and media payload bytes of all publishers, ended ones included. */
  readonly bytesSent: number;
  readonly mediaBytesSent: number;
}

export class RtmpPublisherPool {
  readonly scheduler: PublishScheduler;
  private readonly media = new Map<string, Promise<FlvFile>>();
  private readonly active = new Set<RtmpPublisher>();
  private readonly failures: Partial<Record<RtmpFailureReason, number>> = {};
  private started = 0;
  private endedBytes = 0;
  private endedMediaBytes = 0;
  private nextSource = 0;
  private readonly observer: PublisherObserver;

  constructor(private readonly options: PublisherPoolOptions = {}) {
    this.scheduler = new PublishScheduler({
      ...(options.windowMs !== undefined ? { windowMs: options.windowMs } : {}),
      ...(options.slices !== undefined ? { slices: options.slices } : {}),
      ...(options.onTick ? { onTick: options.onTick } : {}),
    });
    this.observer = {
      onStart: (_p, ms) => {
        this.started++;
        options.onStartLatency?.(ms);
      },
      ...(options.onLag ? { onLag: options.onLag } : {}),
      onFailure: (_p, e) => this.countFailure(e.reason),
      onEnd: (p, stats) => {
        this.active.delete(p);
        this.endedBytes += stats.bytesSent;
        this.endedMediaBytes += stats.mediaBytesSent;
      },
    };
  }

  /** The parsed file, loaded once per path. */
  loadMedia(path: string): Promise<FlvFile> {
    let m = this.media.get(path);
    if (!m) {
      m = loadFlv(path);
      this.media.set(path, m);
      m.catch(() => this.media.delete(path)); // let a later call retry a missing file
    }
    return m;
  }

  publish(req: PublishRequest): PublishTask {
    let stopped = false;
    let publisher: RtmpPublisher | null = null;
    const failed = (e: RtmpPublishError) => {
      if (!stopped) req.onFailed?.(e);
    };
    const sources = this.options.sourceAddresses ?? [];
    const localAddress = sources.length > 0 ? sources[this.nextSource++ % sources.length] : undefined;
    const o = this.options;
    const ready = this.loadMedia(req.flvPath).then(
      (media) => {
        if (stopped) return;
        const p = new RtmpPublisher({
          url: req.url,
          media,
          scheduler: this.scheduler,
          observer: this.observer,
          ...(localAddress ? { localAddress } : {}),
          ...(o.writeMode ? { writeMode: o.writeMode } : {}),
          ...(o.clock === false ? { clock: false } : {}),
          ...(o.connectTimeoutMs ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
          ...(o.handshakeTimeoutMs ? { handshakeTimeoutMs: o.handshakeTimeoutMs } : {}),
          ...(o.publishTimeoutMs ? { publishTimeoutMs: o.publishTimeoutMs } : {}),
        });
        publisher = p;
        this.active.add(p);
        p.start().then(
          () => {
            if (!stopped) req.onStarted?.(p);
          },
          () => {}, // failures arrive through `closed`
        );
        void p.closed.then((err) => {
          if (err) failed(err);
        });
      },
      (e: Error) => {
        const err = new RtmpPublishError('media_error', 'connect', `cannot load media: ${e.message}`);
        this.countFailure(err.reason);
        failed(err);
      },
    );
    return {
      get publisher() {
        return publisher;
      },
      async stop() {
        stopped = true;
        await ready;
        await publisher?.stop();
      },
    };
  }

  snapshot(): PoolSnapshot {
    let bytes = this.endedBytes;
    let media = this.endedMediaBytes;
    let streaming = 0;
    for (const p of this.active) {
      const s = p.stats();
      bytes += s.bytesSent;
      media += s.mediaBytesSent;
      if (s.state === 'streaming') streaming++;
    }
    return {
      active: this.active.size,
      streaming,
      started: this.started,
      failures: { ...this.failures },
      bytesSent: bytes,
      mediaBytesSent: media,
    };
  }

  /** Stops every publisher (FCUnpublish, deleteStream, close) and the scheduler. */
  async close(): Promise<void> {
    await Promise.all([...this.active].map((p) => p.stop()));
    this.scheduler.close();
  }

  private countFailure(reason: RtmpFailureReason): void {
    this.failures[reason] = (this.failures[reason] ?? 0) + 1;
    this.options.onFailure?.(reason);
  }
}
