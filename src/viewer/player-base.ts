// Lifecycle shared by the players: start() settles at the first key frame or the first failure,
// a first-frame deadline, closed/stop, byte counting and the playout meter feeding the observer.
import { type FrameInfo, inspectAvcTag } from '../media/rtmp/stream-clock.js';
import { PlayoutMeter } from './playout.js';
import {
  ViewerError,
  type ViewerFailureReason,
  type ViewerObserver,
  type ViewerOptions,
  type ViewerProtocol,
  type ViewerStats,
} from './types.js';

export const DEFAULT_BUFFER_MS = 1000;
const TAG_VIDEO = 9;
const TAG_SCRIPT = 18;
const DEFAULT_FIRST_FRAME_TIMEOUT_MS = 20_000;

type State = ViewerStats['state'];

export abstract class PlayerBase {
  abstract readonly protocol: ViewerProtocol;
  readonly closed: Promise<ViewerError | null>;
  protected state: State = 'idle';
  protected readonly meter: PlayoutMeter;
  protected readonly observer: ViewerObserver | undefined;
  protected bytes = 0;
  private readonly frameInfo: FrameInfo = { key: false, clock: null };
  protected scriptMessages = 0;
  private startedAt = 0;
  private endedAt = 0;
  private resolveClosed!: (e: ViewerError | null) => void;
  private startSettle: { resolve: () => void; reject: (e: ViewerError) => void } | null = null;
  private firstFrameTimer: NodeJS.Timeout | null = null;

  constructor(protected readonly options: ViewerOptions) {
    this.observer = options.observer;
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
    const o = this.observer;
    this.meter = new PlayoutMeter(options.bufferMs ?? DEFAULT_BUFFER_MS, {
      onFirstFrame: (ms) => {
        this.clearFirstFrameTimer();
        this.state = 'playing';
        o?.onFirstFrame?.(ms);
        this.startSettle?.resolve();
        this.startSettle = null;
      },
      onStall: (ms) => o?.onStall?.(ms),
      onDelay: (ms) => o?.onDelay?.(ms),
    });
  }

  /** Opens the connection(s); failures go through fail(). */
  protected abstract open(): void;
  /** Releases sockets and timers; must not call fail(). */
  protected abstract release(): void;

  start(): Promise<void> {
    if (this.state !== 'idle') return Promise.reject(new Error('viewer already started'));
    return new Promise<void>((resolve, reject) => {
      this.startSettle = { resolve, reject };
      this.state = 'connecting';
      this.startedAt = Date.now();
      this.meter.begin(this.startedAt);
      const limit = this.options.firstFrameTimeoutMs ?? DEFAULT_FIRST_FRAME_TIMEOUT_MS;
      this.firstFrameTimer = setTimeout(
        () => this.fail('no_media', `no key frame within ${limit} ms`),
        limit,
      );
      this.open();
    });
  }

  async stop(): Promise<void> {
    if (this.state === 'closed' || this.state === 'failed') {
      await this.closed;
      return;
    }
    const wasStarting = this.state !== 'playing';
    this.finish(null);
    if (wasStarting) {
      this.startSettle?.reject(new ViewerError('closed', this.protocol, 'stopped before the first frame'));
      this.startSettle = null;
    }
    await this.closed;
  }

  stats(): ViewerStats {
    const m = this.meter;
    const end = this.endedAt || Date.now();
    const playing = m.started ? Math.max(0, end - m.firstFrameAt) : 0;
    return {
      protocol: this.protocol,
      state: this.state,
      ttffMs: m.ttffMs,
      stalls: m.stalls,
      stallMs: m.stallMs,
      bytes: this.bytes,
      videoFrames: m.videoFrames,
      keyFrames: m.keyFrames,
      clocks: m.clocks,
      delayLastMs: m.delayLastMs,
      delayMaxMs: m.delayMaxMs,
      scriptMessages: this.scriptMessages,
      bitrate: playing > 0 ? Math.round((this.bytes * 8000) / playing) : 0,
      elapsedMs: this.startedAt ? end - this.startedAt : 0,
    };
  }

  /** One FLV tag / RTMP media message (type 8, 9 or 18) received at `now`. */
  protected flvTag(type: number, timestamp: number, payload: Buffer, now: number): void {
    if (type === TAG_VIDEO) {
      const f = inspectAvcTag(payload, this.frameInfo);
      // Sequence headers and end-of-sequence are not frames.
      if (payload.length > 1 && payload[1] === 1) this.meter.frame(timestamp, f.key, f.clock, now);
    } else if (type === TAG_SCRIPT && !isMetadata(payload)) {
      this.scriptMessages++;
    }
  }

  /** The options' URL if it is http://, else the player fails with `bad_url` and this is null. */
  protected httpUrl(): URL | null {
    try {
      const url = new URL(this.options.url);
      if (url.protocol === 'http:') return url;
    } catch {
      // reported below
    }
    this.fail('bad_url', 'not an http:// URL');
    return null;
  }

  protected received(n: number): void {
    this.bytes += n;
    this.observer?.onBytes?.(n);
  }

  protected get active(): boolean {
    return this.state === 'connecting' || this.state === 'playing';
  }

  protected fail(reason: ViewerFailureReason, message: string): void {
    if (!this.active) return;
    const err = new ViewerError(reason, this.protocol, message);
    this.observer?.onFailure?.(err);
    this.startSettle?.reject(err);
    this.startSettle = null;
    this.finish(err);
  }

  private finish(err: ViewerError | null): void {
    this.clearFirstFrameTimer();
    this.endedAt = Date.now();
    this.meter.end(this.endedAt);
    this.state = err ? 'failed' : 'closed';
    this.release();
    this.observer?.onEnd?.(this.stats());
    this.resolveClosed(err);
  }

  private clearFirstFrameTimer(): void {
    if (this.firstFrameTimer) clearTimeout(this.firstFrameTimer);
    this.firstFrameTimer = null;
  }
}

/** onMetaData / @setDataFrame / |RtmpSampleAccess: stream description, not timed script data. */
function isMetadata(payload: Buffer): boolean {
  if (payload.length < 3 || payload[0] !== 0x02) return false; // AMF0 string: the handler name
  const name = payload.toString('latin1', 3, 3 + payload.readUInt16BE(1));
  return name === 'onMetaData' || name === '@setDataFrame' || name === '|RtmpSampleAccess';
}
