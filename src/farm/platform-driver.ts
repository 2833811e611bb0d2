import { createRandom, type Random } from '../core/random.js';
import { TimerSet } from '../core/timer-set.js';
import { ingestStreamName } from '../ivc/commands.js';
import type { DeviceRecord } from '../ivc/device-record.js';
import type { RunningIvc } from '../ivc/server.js';
import type { AnswerPacket } from '../protocol/envelope.js';
import type {
  DevicePush,
  OrderPlan,
  PlatformEvent,
  PlatformPlan,
  Quality,
  RecordPlan,
} from '../scenario/types.js';
import { pushUrl } from './plan.js';

/** What the platform received for the streams and recordings it ordered (embedded target). */
export interface MediaReceived {
  streams: {
    ordered: number;
    /**
     * Channels that came online already live without an order (`devices.push` to this
     * platform's ingest): judged below like ordered streams.
     */
    pushed: number;
    /** Streams (ordered or pushed) the ingest saw publishing. */
    received: number;
    /** Received long enough (≥ 10 s) to judge their bitrate. */
    judged: number;
    /** Judged streams whose received bitrate was within ±10 % of the rendition's. */
    within_10pct: number;
    ratio_min: number | null;
    ratio_max: number | null;
    /** Streams with validation violations at the ingest (timestamps, missing headers). */
    with_violations: number;
    /**
     * Where the streams were judged: at the embedded platform's ingest (absent or `ingest`), or,
     * for a remote platform, by the sending devices (`sender`: RTMP accepted, bytes written).
     */
    judged_at?: 'ingest' | 'sender';
  };
  /** Null for a remote platform: its recordings are not seen by the farm. */
  recordings: {
    ordered: number;
    /** Recordings that uploaded at least one segment. */
    with_segments: number;
    segments: number;
    bytes: number;
    fails: number;
    saved: number;
  } | null;
}

/** What the platform ordered and how the devices answered, for the summary. */
export interface OrderCounts {
  ordered: number;
  ok: number;
  /** Error answers by code, and `timeout`/`offline` for orders that got no answer. */
  failed: Record<string, number>;
  stopped: number;
}

interface ActiveOrder {
  loginCode: string;
  channel: number;
  id: string;
  stopTimer: NodeJS.Timeout | null;
  /** When the device accepted the order (0 until then). */
  acceptedAt: number;
}

/** A keepalive this long after the acceptance must show the stream live, or it has ended. */
const LIVE_GRACE_MS = 500;

function emptyCounts(): OrderCounts {
  return { ordered: 0, ok: 0, failed: {}, stopped: 0 };
}

/** `2016-12-05T02:15:32` in UTC, the SyncTime format. */
function syncTimeNow(): string {
  return new Date().toISOString().slice(0, 19);
}

/**
 * Plays the scenario's `platform` section on the embedded reference IVC: once a device is online
 * it picks channels for publishing and cloud recording (by fraction or up to a count), orders
 * them after the configured delay, stops them after their duration, and sends timed events.
 */
export class PlatformDriver {
  readonly publishes = emptyCounts();
  readonly records = emptyCounts();
  readonly events: Record<string, number> = {};
  private readonly activePublishes = new Map<string, ActiveOrder>();
  private readonly activeRecords = new Map<string, ActiveOrder>();
  /** Every accepted order, to judge at the end what the platform received. */
  private readonly orderedStreams = new Map<string, Quality>();
  private readonly orderedSessions: string[] = [];
  /** Ingest stream names of channels pushing by themselves, first seen live at a login. */
  private readonly pushedStreams = new Set<string>();
  /** Channels we ever ordered to publish: live after a re-login is then our stream, not a push. */
  private readonly orderedChannels = new Set<string>();
  private readonly timers = new TimerSet();
  private readonly random: Random;
  private unsubscribe: Array<() => void> = [];
  /** Streams mode of the limit finder: keep this many publishes ordered (null: the plan's fraction/count). */
  private publishTarget: number | null = null;
  private stopped = false;

  constructor(
    private readonly ivc: RunningIvc,
    private readonly plan: PlatformPlan,
    seed: number,
    /** `devices.push` with its url resolved: pushes to this platform's ingest are judged too. */
    private readonly push: DevicePush | null = null,
  ) {
    this.random = createRandom(seed, 'platform');
  }

  start(): void {
    this.unsubscribe.push(this.ivc.commands.onDeviceOnline((d) => this.deviceOnline(d)));
    this.unsubscribe.push(
      this.ivc.commands.onDeviceOffline((d) => {
        for (const ch of d.channels) {
          this.forget(this.activePublishes, d.loginCode, ch.channel);
          this.forget(this.activeRecords, d.loginCode, ch.channel);
        }
      }),
    );
    for (const event of this.plan.events) this.later(event.atMs, () => this.sendEvent(event));
  }

  /** Sends `event` to a fraction of the online devices now (also used for upgrade storms). */
  sendEvent(event: Pick<PlatformEvent, 'event' | 'fraction' | 'params'>): number {
    let sent = 0;
    for (const device of this.ivc.commands.devicesOnline()) {
      if (this.random() >= event.fraction) continue;
      const params =
        event.params ?? (event.event === 'SyncTime' ? { datetime: syncTimeNow(), offset: 1 } : undefined);
      try {
        this.ivc.commands.event(device.loginCode, event.event, params, { validate: false });
        sent++;
      } catch {
        // went offline meanwhile
      }
    }
    this.events[event.event] = (this.events[event.event] ?? 0) + sent;
    return sent;
  }

  /**
   * Judges what arrived: each ordered stream's bitrate at the ingest against its rendition's
   * measured bitrate, and each ordered recording's uploaded segments.
   */
  mediaReceived(renditionBitrate: (q: Quality) => number): MediaReceived {
    const ingest = this.ivc.platform.ingest;
    let received = 0;
    let judged = 0;
    let within = 0;
    let violations = 0;
    let min: number | null = null;
    let max: number | null = null;
    const expected: Array<[string, Quality]> = [...this.orderedStreams];
    for (const name of this.pushedStreams) expected.push([name, this.push!.quality]);
    for (const [streamId, quality] of expected) {
      const s = ingest?.stream(streamId);
      if (!s) continue;
      received++;
      if (s.violations > 0) violations++;
      const lifeMs = (s.endedAt ?? Date.now()) - s.startedAt;
      if (lifeMs < 10_000) continue;
      judged++;
      const ratio = (s.mediaBytes * 8) / (lifeMs / 1000) / renditionBitrate(quality);
      if (Math.abs(ratio - 1) <= 0.1) within++;
      min = min === null ? ratio : Math.min(min, ratio);
      max = max === null ? ratio : Math.max(max, ratio);
    }
    const recordings = {
      ordered: this.orderedSessions.length,
      with_segments: 0,
      segments: 0,
      bytes: 0,
      fails: 0,
      saved: 0,
    };
    for (const session of this.orderedSessions) {
      const r = this.ivc.platform.recordings.describe(session) as {
        segments: number;
        bytes: number;
        fails: number;
        saved: boolean;
      } | null;
      if (!r) continue;
      if (r.segments > 0) recordings.with_segments++;
      recordings.segments += r.segments;
      recordings.bytes += r.bytes;
      recordings.fails += r.fails;
      if (r.saved) recordings.saved++;
    }
    const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
    return {
      streams: {
        ordered: this.orderedStreams.size,
        pushed: this.pushedStreams.size,
        received,
        judged,
        within_10pct: within,
        ratio_min: round(min),
        ratio_max: round(max),
        with_violations: violations,
      },
      recordings,
    };
  }

  /**
   * Keeps `n` streams ordered: streams that ended (refused by the ingest, failed) are forgotten,
   * and online channels that are not live get new orders until `n` are active.
   */
  setPublishTarget(n: number): void {
    this.publishTarget = n;
    const plan = this.plan.publish;
    if (!plan || this.stopped) return;
    this.forgetEndedPublishes();
    let missing = n - this.activePublishes.size;
    if (missing <= 0) return;
    const now = { ...plan, afterMs: 0, durationMs: null };
    for (const device of this.ivc.commands.devicesOnline()) {
      for (const ch of device.channels) {
        if (missing <= 0) return;
        if (ch.state !== 1 || this.activePublishes.has(`${device.loginCode}/${ch.channel}`)) continue;
        this.order(this.activePublishes, device.loginCode, ch.channel, now, () =>
          this.publish(device, ch.channel, now),
        );
        missing--;
      }
    }
  }

  private forgetEndedPublishes(): void {
    for (const [key, order] of this.activePublishes) {
      if (order.acceptedAt === 0) continue;
      const record = this.ivc.platform.devices.get(order.loginCode);
      // Only a keepalive sent after the acceptance tells whether the stream still runs.
      if (!record || record.lastKeepaliveAt < order.acceptedAt + LIVE_GRACE_MS) continue;
      const ch = record.channels.find((c) => c.channel === order.channel);
      if (ch?.stream_id !== order.id) {
        this.activePublishes.delete(key);
        this.publishes.failed.ended = (this.publishes.failed.ended ?? 0) + 1;
      }
    }
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    this.timers.clear();
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    return this.timers.later(ms, fn);
  }

  private deviceOnline(device: DeviceRecord): void {
    for (const ch of device.channels) {
      // Live at the first keepalive of a connection, never ordered by us: a standing push.
      if (ch.state === 2 && !this.orderedChannels.has(`${device.loginCode}/${ch.channel}`))
        this.notePush(device.loginCode, ch.channel);
      // Offline channels cannot, and live ones (pushing by themselves) need not, be ordered.
      if (ch.state !== 1) continue;
      const { publish, record } = this.plan;
      if (publish && this.publishTarget === null && this.chosen(publish, this.activePublishes)) {
        this.order(this.activePublishes, device.loginCode, ch.channel, publish, () =>
          this.publish(device, ch.channel, publish),
        );
      }
      if (record && this.chosen(record, this.activeRecords)) {
        this.order(this.activeRecords, device.loginCode, ch.channel, record, () =>
          this.record(device, ch.channel, record),
        );
      }
    }
  }

  /** Remembers a standing push when it goes to this platform's ingest (others are not seen here). */
  private notePush(loginCode: string, channel: number): void {
    const base = this.ivc.rtmpUrl;
    if (!this.push || !base) return;
    const url = pushUrl(this.push.url, loginCode, channel);
    if (url.startsWith(`${base}/`)) this.pushedStreams.add(url.slice(base.length + 1));
  }

  private chosen(plan: OrderPlan, active: Map<string, ActiveOrder>): boolean {
    return plan.count !== null ? active.size < plan.count : this.random() < plan.fraction;
  }

  /** Reserves the channel now (so counts hold), orders after `afterMs`. */
  private order(
    active: Map<string, ActiveOrder>,
    loginCode: string,
    channel: number,
    plan: OrderPlan,
    run: () => Promise<string | null>,
  ): void {
    const key = `${loginCode}/${channel}`;
    if (active.has(key)) return;
    const entry: ActiveOrder = { loginCode, channel, id: '', stopTimer: null, acceptedAt: 0 };
    active.set(key, entry);
    this.later(plan.afterMs, () => {
      void run().then((id) => {
        if (id === null) {
          active.delete(key);
          return;
        }
        entry.id = id;
        entry.acceptedAt = Date.now();
        if (plan.durationMs !== null)
          entry.stopTimer = this.later(plan.durationMs, () => this.stopOrder(active, key));
      });
    });
  }

  private async publish(device: DeviceRecord, channel: number, plan: OrderPlan): Promise<string | null> {
    this.publishes.ordered++;
    this.orderedChannels.add(`${device.loginCode}/${channel}`);
    try {
      const { streamId, answer } = await this.ivc.commands.publish(device.loginCode, {
        channel,
        quality: plan.quality,
        maxBitrate: plan.maxBitrate,
      });
      if (!this.count(this.publishes, answer)) return null;
      // Kept under the name the stream arrives with at the ingest (the id URL-encoded).
      this.orderedStreams.set(ingestStreamName(streamId), plan.quality);
      return streamId;
    } catch (error) {
      this.fail(this.publishes, error);
      return null;
    }
  }

  private async record(device: DeviceRecord, channel: number, plan: RecordPlan): Promise<string | null> {
    this.records.ordered++;
    try {
      const { sessionId, answer } = await this.ivc.commands.startCloudRecord(device.loginCode, {
        channel,
        quality: plan.quality,
        max_bitrate: plan.maxBitrate,
        seg_duration: plan.segDuration,
        seg_max_size: plan.segMaxSize,
        seg_max_count: plan.segMaxCount,
        prerecord_seconds: plan.prerecordSeconds,
      });
      if (!this.count(this.records, answer)) return null;
      this.orderedSessions.push(sessionId);
      return sessionId;
    } catch (error) {
      this.fail(this.records, error);
      return null;
    }
  }

  private stopOrder(active: Map<string, ActiveOrder>, key: string): void {
    const entry = active.get(key);
    if (!entry) return;
    active.delete(key);
    const counts = active === this.activePublishes ? this.publishes : this.records;
    const stop =
      active === this.activePublishes
        ? this.ivc.commands.stopPublish(entry.loginCode, entry.channel, entry.id)
        : this.ivc.commands.stopCloudRecord(entry.loginCode, entry.channel, entry.id);
    stop.then(
      () => counts.stopped++,
      () => {},
    );
  }

  private forget(active: Map<string, ActiveOrder>, loginCode: string, channel: number): void {
    const key = `${loginCode}/${channel}`;
    const entry = active.get(key);
    if (entry?.stopTimer) clearTimeout(entry.stopTimer);
    active.delete(key);
  }

  private count(counts: OrderCounts, answer: AnswerPacket): boolean {
    if ('err' in answer && answer.err) {
      const code = String(answer.err.code);
      counts.failed[code] = (counts.failed[code] ?? 0) + 1;
      return false;
    }
    counts.ok++;
    return true;
  }

  private fail(counts: OrderCounts, error: unknown): void {
    const status = (error as { status?: number }).status;
    const reason = status === 504 ? 'timeout' : status === 404 ? 'offline' : 'error';
    counts.failed[reason] = (counts.failed[reason] ?? 0) + 1;
  }
}
