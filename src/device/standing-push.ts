import type { Scheduler, Timer, TimerTarget } from '../core/scheduler.js';
import type { Quality, RTMPPublishConfigEntry } from '../protocol/methods.js';
import type { Channel } from './channel.js';

/** What a standing push needs from its device. */
export interface PushHost {
  readonly channels: readonly Channel[];
  /** Starts a channel's push (standing pushes have stream id ""). */
  startPush(ch: Channel, quality: Quality, url: string, streamId: string): void;
}

/**
 * The standing push configuration of one device (Get/SetRTMPPublishConfig), kept for the
 * device's life: every enabled entry of an online channel pushes by itself, and a failed
 * standing push is tried again after `retryMs` while its entry stays enabled. One retry timer
 * per device: a retry re-applies the whole configuration. `halt()` (the device stops) cancels
 * the retry, so a stopped device never publishes again.
 */
export class StandingPush implements TimerTarget {
  private config: RTMPPublishConfigEntry[] | null;
  private retryTimer: Timer | null = null;
  private halted = false;

  constructor(
    private readonly host: PushHost,
    private readonly scheduler: Scheduler,
    private readonly retryMs: number,
    initial: RTMPPublishConfigEntry[] | null,
  ) {
    this.config = initial;
  }

  /** The configuration as GetRTMPPublishConfig answers it (default: one disabled `sd` entry per channel). */
  get entries(): RTMPPublishConfigEntry[] {
    this.config ??= this.host.channels.map((ch) => ({
      enable: false,
      channel: ch.channel,
      quality: 'sd' as const,
      url: '',
    }));
    return this.config;
  }

  /** Replaces the configuration (SetRTMPPublishConfig); `apply` brings pushes in line. */
  set entries(config: RTMPPublishConfigEntry[]) {
    this.config = config;
  }

  /**
   * Brings pushes in line with the configuration: every enabled entry of an online channel that
   * is not publishing starts its push; a standing push whose entry was disabled or changed
   * stops. Called on login, on a new configuration, when a channel comes back from a reboot and
   * when a failed push is due for a retry.
   */
  apply(): void {
    this.halted = false;
    if (!this.config) return;
    for (const ch of this.host.channels) {
      const entry = this.entryFor(ch);
      const current = ch.publishing;
      if (
        current &&
        current.streamId === '' &&
        (!entry || entry.url !== current.url || entry.quality !== current.quality)
      ) {
        ch.stopPublish();
      }
      if (!entry || ch.publishing || ch.state === 0) continue;
      this.host.startPush(ch, entry.quality, entry.url, '');
    }
  }

  /** A channel's push failed: a standing one is tried again later. */
  pushFailed(ch: Channel): void {
    if (this.halted || !this.entryFor(ch)) return;
    this.retryTimer ??= this.scheduler.timer(this, 0);
    if (!this.retryTimer.pending) this.scheduler.schedule(this.retryTimer, this.retryMs);
  }

  /** The device stopped: no retry until the next `apply` (login). */
  halt(): void {
    this.halted = true;
    if (this.retryTimer) this.scheduler.cancel(this.retryTimer);
  }

  onTimer(): void {
    if (!this.halted) this.apply();
  }

  private entryFor(ch: Channel): RTMPPublishConfigEntry | null {
    const config = this.config;
    if (!config) return null;
    for (const e of config) if (e.enable && e.url !== '' && e.channel === ch.channel) return e;
    return null;
  }
}
