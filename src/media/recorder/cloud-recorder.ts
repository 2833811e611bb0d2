// One device-side cloud recording (contract item 5): cuts TS segments from the rendition's shared
// loop as wall time passes, asks the cbk_url for an upload slot per segment, keeps segments the
// platform does not want yet (pre-recording), uploads them paced, and ends with op=save.
import type { Scheduler, Timer, TimerTarget } from '../../core/scheduler.js';
import { TsLoop } from '../ts/loop.js';
import type { TsSegment, TsSegmenter } from '../ts/segmenter.js';
import { type DropReason, nullRecorderObserver, type RecorderObserver } from './observer.js';
import { busyQueueLimit, prerecordQueueLimit, type RecordParams } from './queue-rule.js';
import { UploadClient } from './upload-client.js';

export interface CloudRecorderOptions {
  /** The StartCloudRecord params as received (`RecordJob.params`). */
  params: RecordParams;
  /** `start_ts` resolved to epoch seconds (`RecordJob.startTs`). */
  startTs: number;
  /** The rendition's TS file (`catalogue.rendition(quality).tsPath`), or its loop. */
  media: string | TsLoop;
  /** The worker's timer wheel: cuts, pacing, retry pauses and the stop bound run on it. */
  scheduler: Scheduler;
  observer?: RecorderObserver;
  /**
   * Called once when the recording gives up by itself (invalid cbk_url, or that many consecutive
   * callback failures): wire it to `events.mediaFailed(task, detail)`. Never called after stop().
   */
  onFailure?: (detail: string) => void;
  /** Consecutive failed callbacks (create/fail) that end the recording (default 3). */
  maxCallbackFailures?: number;
  /** On stop, how long the in-flight upload and the last segments may take before they are abandoned (default 10 s). */
  stopTimeoutMs?: number;
  /** Bound on one callback, and on a PUT beyond its pacing time, ms (default 30 s). */
  timeoutMs?: number;
  /** GOP of the loop to start at, any integer ≥ 0 (taken modulo the GOP count: a device index spreads recordings over the loop); default 0. */
  startGop?: number;
  localAddress?: string;
  random?: () => number;
  /** Every POST and PUT on a new TCP connection (the vendor's segment writer). */
  connectionPerRequest?: boolean;
}

/** Counts of one recording (the observer sees the same events as they happen). */
export interface CloudRecorderStats {
  cut: number;
  created: number;
  deferred: number;
  uploaded: number;
  uploadedBytes: number;
  uploadFailed: number;
  dropped: number;
  callbackFailed: number;
}

interface Pending {
  readonly bytes: Buffer;
  /** Epoch seconds. */
  readonly start: number;
  readonly durationSec: number;
}

const EPS = 0.001;
/** The vendor's pacing: a segment's PUT spans this share of its duration (less when more wait). */
const PACE = 0.8;
const PACE_BEHIND = 0.5;

export class CloudRecorder implements TimerTarget {
  readonly params: RecordParams;
  readonly stats: CloudRecorderStats = {
    cut: 0,
    created: 0,
    deferred: 0,
    uploaded: 0,
    uploadedBytes: 0,
    uploadFailed: 0,
    dropped: 0,
    callbackFailed: 0,
  };
  /** Resolves once the recording is over: saved (or abandoned) and its connections closed. */
  readonly closed: Promise<void>;

  readonly #startTs: number;
  readonly #scheduler: Scheduler;
  readonly #observer: RecorderObserver;
  readonly #onFailure: (detail: string) => void;
  readonly #maxFailures: number;
  readonly #stopTimeoutMs: number;
  readonly #segDuration: number;
  readonly #maxBytes: number;
  readonly #queueLimit: number;
  readonly #busyLimit: number;
  readonly #segmenter: TsSegmenter | null = null;
  readonly #client: UploadClient | null = null;
  readonly #cutTimer: Timer;
  readonly #startedAt: number;
  #resolveClosed!: () => void;

  /** Segments finished and not yet handed a slot, oldest first. */
  readonly #waiting: Pending[] = [];
  /** A segment cut whose media end is still in the future (released when the wall clock gets there). */
  #held: TsSegment | null = null;
  #draining: Promise<void> | null = null;
  #lastName = '';
  #failures = 0;
  #stopped = false;
  #failed = false;
  #abandoned = false;

  constructor(options: CloudRecorderOptions) {
    this.params = options.params;
    this.#startTs = options.startTs;
    this.#scheduler = options.scheduler;
    this.#observer = options.observer ?? nullRecorderObserver;
    this.#onFailure = options.onFailure ?? (() => {});
    this.#maxFailures = options.maxCallbackFailures ?? 3;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    const p = options.params;
    this.#segDuration = Math.max(1, p.seg_duration);
    // The segmenter needs room for PAT + PMT + one packet.
    this.#maxBytes = p.seg_max_size > 0 ? Math.max(p.seg_max_size, 3 * 188) : Number.POSITIVE_INFINITY;
    this.#queueLimit = prerecordQueueLimit(p);
    this.#busyLimit = busyQueueLimit(p);
    this.#cutTimer = this.#scheduler.timer(this);
    this.#startedAt = this.#scheduler.now();
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    try {
      const loop = typeof options.media === 'string' ? TsLoop.shared(options.media) : options.media;
      this.#segmenter = loop.segmenter({ startGop: (options.startGop ?? 0) % loop.gopCount });
      this.#client = new UploadClient({
        cbkUrl: p.cbk_url,
        scheduler: this.#scheduler,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.random ? { random: options.random } : {}),
        connectionPerRequest: options.connectionPerRequest === true,
      });
    } catch (error) {
      // Reported like any later failure: the device has registered the task by the time it runs.
      const detail = `cannot record: ${(error as Error).message}`;
      queueMicrotask(() => this.#fail(detail));
      return;
    }
    this.#scheduler.schedule(this.#cutTimer, this.#segDuration * 1000);
  }

  /** Name of the last segment uploaded ('' before the first). */
  get lastName(): string {
    return this.#lastName;
  }

  /**
   * Ends the recording: the part recorded since the last cut becomes a last segment (when ≥ 1 s),
   * what waits is offered once more, then `op=save` with the last uploaded name. Returns at once;
   * `closed` tells when it is done. Idempotent; never calls onFailure.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#scheduler.cancel(this.#cutTimer);
    if (this.#failed) return; // closed resolves once the failure has closed the connections
    if (!this.#segmenter || !this.#client) {
      this.#resolveClosed();
      return;
    }
    const held = this.#held;
    this.#held = null;
    if (held) this.#deliver(held);
    else {
      const remaining = this.#elapsedSec() - this.#segmenter.mediaTimeSec;
      if (remaining >= 1) this.#deliver(this.#cut(remaining));
    }
    this.#kick();
    void this.#finish();
  }

  onTimer(): void {
    if (this.#stopped || this.#failed || !this.#segmenter) return;
    const elapsed = this.#elapsedSec();
    const held = this.#held;
    this.#held = null;
    if (held) this.#deliver(held);
    // Cut every segment whose nominal end has passed (more than one only after size cuts or a stall).
    while (this.#segmenter.mediaTimeSec + this.#segDuration <= elapsed + EPS) {
      const segment = this.#cut(this.#segDuration);
      const end = segment.mediaStartSec + segment.durationSec;
      if (end > elapsed + EPS) {
        // Cut on the next key frame past the nominal length: not recorded yet, wait for it.
        this.#held = segment;
        this.#scheduler.schedule(this.#cutTimer, (end - elapsed) * 1000);
        return;
      }
      this.#deliver(segment);
    }
    const next = this.#segmenter.mediaTimeSec + this.#segDuration;
    this.#scheduler.schedule(this.#cutTimer, (next - elapsed) * 1000);
  }

  #elapsedSec(): number {
    return (this.#scheduler.now() - this.#startedAt) / 1000;
  }

  #cut(seconds: number): TsSegment {
    this.stats.cut++;
    return this.#segmenter!.next(seconds, this.#maxBytes);
  }

  /** A finished segment enters the queue (or is dropped by the contract's rules). */
  #deliver(segment: TsSegment): void {
    if (segment.durationSec < 1 || segment.bytes.length === 0) {
      this.#drop('short');
      return;
    }
    if (this.#draining && this.#waiting.length >= this.#busyLimit) {
      this.#drop('queue_full');
      return;
    }
    this.#waiting.push({
      bytes: segment.bytes,
      start: this.#startTs + segment.mediaStartSec,
      durationSec: segment.durationSec,
    });
    this.#kick();
  }

  #drop(reason: DropReason): void {
    this.stats.dropped++;
    this.#observer.segmentDropped(reason);
  }

  #kick(): void {
    if (this.#draining || this.#waiting.length === 0 || this.#failed) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = null;
    });
  }

  /** Creates and uploads waiting segments in order until none is left or the platform says "not now". */
  async #drain(): Promise<void> {
    const client = this.#client!;
    while (this.#waiting.length > 0 && !this.#failed && !this.#abandoned) {
      const segment = this.#waiting[0]!;
      const answer = await client.create(
        { size: segment.bytes.length, start: segment.start, durationSec: segment.durationSec },
        this.#lastName,
      );
      if (!answer.ok) {
        this.stats.callbackFailed++;
        this.#observer.createFailed(answer.reason);
        this.#trim();
        this.#callbackFailed(`op=create failed: ${answer.reason}`);
        return;
      }
      this.#failures = 0;
      if (answer.slot === null) {
        this.stats.deferred++;
        this.#observer.createDeferred();
        this.#trim();
        return;
      }
      this.stats.created++;
      this.#observer.segmentCreated(answer.ms);
      this.#waiting.shift();
      const pace = (this.#waiting.length > 0 ? PACE_BEHIND : PACE) * segment.durationSec * 1000;
      const put = await client.put(answer.slot.uri, segment.bytes, pace);
      if (put.ok) {
        this.stats.uploaded++;
        this.stats.uploadedBytes += segment.bytes.length;
        this.#observer.segmentUploaded(put.ms, segment.bytes.length);
        this.#lastName = answer.slot.name;
        continue;
      }
      this.stats.uploadFailed++;
      this.#observer.uploadFailed(put.reason);
      if (this.#abandoned) return;
      const failed = await client.fail(answer.slot.name);
      if (failed) {
        this.stats.callbackFailed++;
        this.#observer.createFailed(failed);
        this.#callbackFailed(`op=fail failed: ${failed}`);
      } else {
        this.#failures = 0;
      }
    }
  }

  /** After a create without a slot: keep the oldest `queueLimit` segments, drop newer ones. */
  #trim(): void {
    while (this.#waiting.length > this.#queueLimit) {
      this.#waiting.pop();
      this.#drop('queue_full');
    }
  }

  #callbackFailed(detail: string): void {
    if (++this.#failures >= this.#maxFailures && !this.#stopped) {
      this.#fail(`${this.#failures} callbacks to the cbk_url failed in a row (${detail})`);
    }
  }

  /** Gives up by itself: no save (the callback is what fails), connections closed, owner told. */
  #fail(detail: string): void {
    if (this.#failed || this.#stopped) return;
    this.#failed = true;
    this.#scheduler.cancel(this.#cutTimer);
    this.#held = null;
    for (const _ of this.#waiting) this.#drop('stopped');
    this.#waiting.length = 0;
    const client = this.#client;
    void (client ? client.close() : Promise.resolve()).then(() => this.#resolveClosed());
    this.#onFailure(detail);
  }

  async #finish(): Promise<void> {
    const client = this.#client!;
    const bound = this.#scheduler.after(this.#stopTimeoutMs, () => {
      this.#abandoned = true;
      client.abort();
    });
    while (this.#draining) await this.#draining;
    this.#scheduler.cancel(bound);
    for (const _ of this.#waiting) this.#drop('stopped');
    this.#waiting.length = 0;
    if (!this.#failed) {
      const failed = await client.save(this.#lastName);
      if (failed) {
        this.stats.callbackFailed++;
        this.#observer.createFailed(failed);
      }
      this.#observer.saved(failed === null);
    }
    await client.close();
    this.#resolveClosed();
  }
}
