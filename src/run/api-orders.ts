// The user's side of a run against a remote platform: the scenario's `platform:` plan (publish,
// record, events — the same fractions, counts, delays and durations as the embedded platform's)
// played through the platform's own HTTP API (`api:` actions), and the time each ordered stream
// takes to reach the device (`order_delivery_duration`) and to go live (`time_to_live`).
//
// The devices run in worker threads: they tell this driver when they log in (with their
// channels), when an order reaches them, when the platform's RTMP server accepts their stream,
// and what each stream sent (farm/order-notices.ts).

import type { ApiClient, ApiResult } from '../api/client.js';
import { createRandom, type Random } from '../core/random.js';
import { TimerSet } from '../core/timer-set.js';
import type { OrderMethod, OrderNotice, StreamMark } from '../farm/order-notices.js';
import type { MediaReceived, OrderCounts } from '../farm/platform-driver.js';
import type { Family, HistogramHandle, MetricsRegistry } from '../metrics/registry.js';
import type { OrderPlan, PlatformEvent, PlatformPlan, Quality } from '../scenario/types.js';

/** A stream's received bitrate is judged once it was live this long. */
const JUDGE_AFTER_MS = 10_000;

interface Order {
  loginCode: string;
  channel: number;
  quality: Quality;
  /** Epoch ms when the API call that placed it started (0 while it waits for its delay). */
  calledAt: number;
  delivered: boolean;
  live: boolean;
  /** Values the start action captured (a stream id…), for its stop action. */
  captured: Record<string, string | number>;
  stopTimer: NodeJS.Timeout | null;
}

/** One kind of order (live views, recordings) and its bookkeeping. */
class OrderBook {
  readonly counts: OrderCounts = { ordered: 0, ok: 0, failed: {}, stopped: 0 };
  readonly active = new Map<string, Order>();
  failureLogged = false;

  constructor(
    readonly plan: OrderPlan | null,
    readonly method: OrderMethod,
  ) {}

  fail(result: ApiResult): void {
    const key = result.status > 0 ? String(result.status) : result.outcome;
    this.counts.failed[key] = (this.counts.failed[key] ?? 0) + 1;
  }
}

/** What an ordered stream sent, reported when it ended. */
interface Sent {
  quality: Quality;
  mediaBytes: number;
  liveMs: number;
}

export class ApiOrders {
  readonly events: Record<string, number> = {};
  private readonly publishes: OrderBook;
  private readonly records: OrderBook;
  /**
   * Online devices by login code: all their channels (an event names any of them) and those that
   * may be ordered (not pushing by themselves).
   */
  private readonly online = new Map<string, { channels: number; free: number[] }>();
  private readonly sent: Sent[] = [];
  private livesSeen = 0;
  /** Ordered streams that went live, until they end: their quality, to judge what they sent. */
  private readonly liveStreams = new Map<string, Quality>();
  private readonly timers = new TimerSet();
  private readonly random: Random;
  private readonly delivery: Family<HistogramHandle>;
  private readonly timeToLive: HistogramHandle;
  /** Streams mode of the limit finder: keep this many live views open (null: the plan's fraction/count). */
  private publishTarget: number | null = null;
  private stopped = false;
  private readonly calls = new Set<Promise<unknown>>();

  constructor(
    private readonly client: ApiClient,
    private readonly plan: PlatformPlan,
    registry: MetricsRegistry,
    seed: number,
    private readonly log: (message: string) => void,
  ) {
    this.random = createRandom(seed, 'platform');
    this.publishes = new OrderBook(plan.publish, 'RTMPPublish');
    this.records = new OrderBook(plan.record, 'StartCloudRecord');
    this.delivery = registry.histogramFamily('order_delivery_duration', ['method']);
    this.timeToLive = registry.histogram('time_to_live');
  }

  get publishCounts(): OrderCounts {
    return this.publishes.counts;
  }

  get recordCounts(): OrderCounts {
    return this.records.counts;
  }

  start(): void {
    for (const event of this.plan.events) this.later(event.atMs, () => this.sendEvent(event));
  }

  /** A worker's notice: a device logged in or out, an order arrived, a stream went live or ended. */
  notice(notice: OrderNotice): void {
    if (notice.type === 'stream') this.mark(notice.mark);
    else if (notice.channels === 0) this.deviceOffline(notice.loginCode);
    else this.deviceOnline(notice.loginCode, notice.channels, notice.pushing);
  }

  /** Keeps `n` live views open: new ones on free channels of online devices until `n` are (limit finder). */
  setPublishTarget(n: number): void {
    this.publishTarget = n;
    const plan = this.publishes.plan;
    if (!plan || this.stopped) return;
    let missing = n - this.publishes.active.size;
    const now = { ...plan, afterMs: 0, durationMs: null };
    for (const [loginCode, { free }] of this.online) {
      for (const channel of free) {
        if (missing <= 0) return;
        if (this.publishes.active.has(`${loginCode}/${channel}`)) continue;
        this.place(this.publishes, loginCode, channel, now);
        missing--;
      }
    }
  }

  /**
   * No new orders from now on. Once the calls under way have answered, every live view and
   * recording the run opened and has not closed yet is closed with its stop action (before the
   * devices leave): a load run leaves nothing open on the user's platform.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clear();
    await Promise.allSettled([...this.calls]);
    for (const book of [this.publishes, this.records]) {
      const stopAction = book.plan?.stopAction;
      if (!stopAction) continue;
      // calledAt 0: its start action was never called (its delay had not run out).
      for (const [key, order] of [...book.active])
        if (order.calledAt > 0) this.end(book, key, order, stopAction);
    }
    await Promise.allSettled([...this.calls]);
  }

  /** What the devices sent to the platform for the ordered streams, judged as the embedded platform judges its ingest. */
  mediaReceived(renditionBitrate: (q: Quality) => number): MediaReceived {
    let judged = 0;
    let within = 0;
    let min: number | null = null;
    let max: number | null = null;
    for (const s of this.sent) {
      if (s.liveMs < JUDGE_AFTER_MS) continue;
      judged++;
      const ratio = (s.mediaBytes * 8) / (s.liveMs / 1000) / renditionBitrate(s.quality);
      if (Math.abs(ratio - 1) <= 0.1) within++;
      min = min === null ? ratio : Math.min(min, ratio);
      max = max === null ? ratio : Math.max(max, ratio);
    }
    const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
    return {
      streams: {
        ordered: this.publishes.counts.ok,
        pushed: 0,
        received: this.livesSeen,
        judged,
        within_10pct: within,
        ratio_min: round(min),
        ratio_max: round(max),
        with_violations: 0,
        judged_at: 'sender',
      },
      recordings: null,
    };
  }

  private deviceOnline(loginCode: string, channels: number, pushing: number): void {
    const free: number[] = [];
    for (let ch = pushing; ch < channels; ch++) free.push(ch);
    this.online.set(loginCode, { channels, free });
    if (this.stopped) return;
    for (const channel of free) {
      for (const book of [this.publishes, this.records]) {
        const plan = book.plan;
        if (!plan || (book === this.publishes && this.publishTarget !== null)) continue;
        const chosen = plan.count !== null ? book.active.size < plan.count : this.random() < plan.fraction;
        if (chosen) this.place(book, loginCode, channel, plan);
      }
    }
  }

  private deviceOffline(loginCode: string): void {
    const channels = this.online.get(loginCode)?.free ?? [];
    this.online.delete(loginCode);
    for (const book of [this.publishes, this.records]) {
      for (const channel of channels) {
        const key = `${loginCode}/${channel}`;
        const order = book.active.get(key);
        if (order?.stopTimer) clearTimeout(order.stopTimer);
        book.active.delete(key);
      }
    }
  }

  /** Reserves the channel now (so counts hold) and calls the start action after the plan's delay. */
  private place(book: OrderBook, loginCode: string, channel: number, plan: OrderPlan): void {
    const key = `${loginCode}/${channel}`;
    if (book.active.has(key)) return;
    const order: Order = {
      loginCode,
      channel,
      quality: plan.quality,
      calledAt: 0,
      delivered: false,
      live: false,
      captured: {},
      stopTimer: null,
    };
    book.active.set(key, order);
    this.later(plan.afterMs, () => {
      order.calledAt = Date.now();
      book.counts.ordered++;
      this.track(this.client.call(plan.action!, this.varsOf(order)), (result) => {
        if (result.outcome !== 'ok') {
          book.fail(result);
          if (book.active.get(key) === order) book.active.delete(key);
          if (!book.failureLogged)
            this.log(`${plan.action} failed (first of its kind shown): ${result.error}`);
          book.failureLogged = true;
          return;
        }
        book.counts.ok++;
        order.captured = result.captured;
        if (plan.durationMs !== null && plan.stopAction !== null) {
          const stopAction = plan.stopAction;
          order.stopTimer = this.later(plan.durationMs, () => this.end(book, key, order, stopAction));
        }
      });
    });
  }

  private end(book: OrderBook, key: string, order: Order, action: string): void {
    if (book.active.get(key) === order) book.active.delete(key);
    this.track(this.client.call(action, this.varsOf(order)), (result) => {
      if (result.outcome === 'ok') book.counts.stopped++;
    });
  }

  private sendEvent(event: PlatformEvent): void {
    let sent = 0;
    for (const [loginCode, { channels }] of this.online) {
      if (this.random() >= event.fraction) continue;
      sent++;
      // An NVR's event is about one of its cameras, any of them.
      const channel = Math.floor(this.random() * channels);
      this.track(
        this.client.call(event.action!, { login_code: loginCode, channel, quality: 'sd' }),
        () => {},
      );
    }
    this.events[event.event] = (this.events[event.event] ?? 0) + sent;
  }

  private mark(mark: StreamMark): void {
    const key = `${mark.loginCode}/${mark.channel}`;
    if (mark.event === 'delivered') {
      const book = mark.method === 'RTMPPublish' ? this.publishes : this.records;
      const order = book.active.get(key);
      if (!order || order.delivered || order.calledAt === 0) return;
      order.delivered = true;
      this.delivery.get(mark.method).record(Math.max(0, mark.at - order.calledAt));
      return;
    }
    if (mark.event === 'live') {
      const order = this.publishes.active.get(key);
      if (!order || order.live || order.calledAt === 0) return;
      order.live = true;
      this.livesSeen++;
      this.liveStreams.set(key, order.quality);
      this.timeToLive.record(Math.max(0, mark.at - order.calledAt));
    } else {
      this.forgetEnded(key);
      // Ended: an ordered stream (still open, or closed by its duration) reports what it sent.
      const quality = this.liveStreams.get(key);
      if (quality === undefined) return;
      this.liveStreams.delete(key);
      this.sent.push({ quality, mediaBytes: mark.mediaBytes, liveMs: mark.liveMs });
    }
  }

  /**
   * Streams mode of the limit finder: a stream that ended by itself (refused or dropped by the
   * platform's RTMP server) no longer counts towards the level; its view is closed, as a user
   * closes a broken player, and another channel gets an order at the next second.
   */
  private forgetEnded(key: string): void {
    const order = this.publishes.active.get(key);
    const stopAction = this.publishes.plan?.stopAction ?? null;
    if (this.publishTarget === null || this.stopped || !order?.delivered) return;
    const failed = this.publishes.counts.failed;
    failed.ended = (failed.ended ?? 0) + 1;
    if (stopAction === null) this.publishes.active.delete(key);
    else this.end(this.publishes, key, order, stopAction);
  }

  private varsOf(order: Order): Record<string, string | number> {
    return { ...order.captured, login_code: order.loginCode, channel: order.channel, quality: order.quality };
  }

  private track(call: Promise<ApiResult>, then: (result: ApiResult) => void): void {
    const done = call.then(then, (error: Error) =>
      this.log(`api call failed: ${this.client.redact(error.message)}`),
    );
    this.calls.add(done);
    void done.finally(() => this.calls.delete(done));
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    return this.timers.later(ms, fn);
  }
}
