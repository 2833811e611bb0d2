// One viewer in a run: a player that behaves like a user's — it retries a stream that is not live
// yet (404, refused, no media) every `retryMs` until its first-frame timeout, and plays again after
// the stream broke off. Failures are counted once per user-visible failure: a start that never got
// a frame within the timeout, or a stream lost while playing — not every refused attempt.
import { type CreateViewerOptions, createViewer } from './index.js';
import type { Viewer, ViewerError, ViewerObserver } from './types.js';

const DEFAULT_FIRST_FRAME_TIMEOUT_MS = 20_000;

export interface ViewerSessionOptions extends CreateViewerOptions {
  observer: ViewerObserver;
  /** Wait before the next attempt (default 1000 ms). */
  retryMs?: number;
}

export class ViewerSession {
  private viewer: Viewer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** The user's start: the first-frame timeout counts from here over all attempts. */
  private since = 0;

  constructor(private readonly options: ViewerSessionOptions) {}

  get active(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.since = Date.now();
    this.attempt();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const v = this.viewer;
    this.viewer = null;
    await v?.stop();
  }

  private get timeoutMs(): number {
    return this.options.firstFrameTimeoutMs ?? DEFAULT_FIRST_FRAME_TIMEOUT_MS;
  }

  private attempt(): void {
    this.timer = null;
    if (!this.running) return;
    const o = this.options.observer;
    const left = Math.max(1, this.since + this.timeoutMs - Date.now());
    let played = false;
    let counted = false;
    const relay: ViewerObserver = {
      onFirstFrame: (ms) => {
        played = true;
        o.onFirstFrame?.(ms);
      },
      onStall: (ms) => o.onStall?.(ms),
      onDelay: (ms) => o.onDelay?.(ms),
      onBytes: (n) => o.onBytes?.(n),
      onFailure: (e) => {
        counted = played || !this.retriesLeft();
        if (counted) o.onFailure?.(e);
      },
      onEnd: (stats) => o.onEnd?.(stats),
    };
    const v = createViewer({ ...this.options, firstFrameTimeoutMs: left, observer: relay });
    this.viewer = v;
    v.start().catch(() => undefined); // the outcome is read from `closed`
    void v.closed.then((error) => this.ended(v, error, counted));
  }

  /** Another attempt fits before the first-frame timeout. */
  private retriesLeft(): boolean {
    return this.running && Date.now() + (this.options.retryMs ?? 1000) < this.since + this.timeoutMs;
  }

  private ended(v: Viewer, error: ViewerError | null, counted: boolean): void {
    if (this.viewer !== v || !this.running || !error) return;
    // A counted failure (lost while playing, or no frame in time) starts the user's wait afresh.
    const retryMs = this.options.retryMs ?? 1000;
    if (counted) this.since = Date.now() + retryMs;
    this.timer = setTimeout(() => this.attempt(), retryMs);
  }
}
