import type { Timer } from '../core/scheduler.js';
import type { AlarmType, Quality, StartCloudRecordParams } from '../protocol/methods.js';
import { type DetectConfig, defaultDetectConfig } from './detection.js';
import type { MediaEvents, MediaTask } from './media-sink.js';
import { Ptz } from './ptz.js';

/** Told when a channel's media fails on its own (implemented by the device). */
export interface ChannelOwner {
  channelMediaFailed(channel: Channel, kind: 'publish' | 'record', detail: string): void;
}

export interface PublishInfo {
  /** The platform's stream_id; "" for a standing push of SetRTMPPublishConfig (none to report). */
  readonly streamId: string;
  readonly quality: Quality;
  readonly url: string;
  readonly task: MediaTask;
}

export interface RecordInfo {
  readonly sessionId: string;
  readonly params: Readonly<StartCloudRecordParams>;
  readonly task: MediaTask;
}

/** What most channels never need, allocated on first use (a channel must stay small). */
class ChannelExtras {
  publish: PublishInfo | null = null;
  record: RecordInfo | null = null;
  ptz: Ptz | null = null;
  move: DetectConfig = defaultDetectConfig;
  rect: DetectConfig = defaultDetectConfig;
  /** By slot (timer-kinds.ts): [reboot, -, alarm type 2, 3, 4] */
  timers: Array<Timer | null> = [null, null, null, null, null];
  constructor(readonly owner: ChannelOwner) {}
}

/**
 * One video input. Its public data fields are exactly the Keepalive channel entry
 * (`channel`, `state`, `stream_id`, `record_session`, `alarm`; an absent value is `undefined`,
 * which JSON.stringify omits), so the device serialises its channel list as is, with no
 * per-tick copies. Everything else lives in private fields, which JSON never sees.
 */
export class Channel implements MediaEvents {
  readonly channel: number;
  /** 0 offline (rebooting), 1 online, 2 live (publishing). */
  state: 0 | 1 | 2 = 1;
  stream_id: string | undefined = undefined;
  record_session: string | undefined = undefined;
  alarm: number | undefined = undefined;

  /** Active alarm types as bit `type`, whatever the profile's keepalive layout. */
  #alarmTypes = 0;
  /** The owner until extras exist, then the extras (which hold the owner). */
  #x: ChannelExtras | ChannelOwner;

  constructor(channel: number, owner: ChannelOwner) {
    this.channel = channel;
    this.#x = owner;
  }

  private get x(): ChannelExtras {
    if (!(this.#x instanceof ChannelExtras)) this.#x = new ChannelExtras(this.#x);
    return this.#x;
  }

  private get extras(): ChannelExtras | null {
    return this.#x instanceof ChannelExtras ? this.#x : null;
  }

  get publishing(): PublishInfo | null {
    return this.extras?.publish ?? null;
  }

  get recording(): RecordInfo | null {
    return this.extras?.record ?? null;
  }

  get moveDetect(): DetectConfig {
    return this.extras?.move ?? defaultDetectConfig;
  }

  set moveDetect(config: DetectConfig) {
    this.x.move = config;
  }

  get rectDetect(): DetectConfig {
    return this.extras?.rect ?? defaultDetectConfig;
  }

  set rectDetect(config: DetectConfig) {
    this.x.rect = config;
  }

  /** The detection config that governs an alarm type (external alarms have none). */
  detectConfigFor(type: AlarmType): DetectConfig | null {
    return type === 3 ? this.moveDetect : type === 4 ? this.rectDetect : null;
  }

  get ptz(): Ptz {
    const x = this.x;
    x.ptz ??= new Ptz();
    return x.ptz;
  }

  /** `reportStreamId` false: the Keepalive entry carries no `stream_id` (the vendor firmware). */
  startPublish(info: PublishInfo, reportStreamId = true): void {
    this.x.publish = info;
    this.stream_id = info.streamId === '' || !reportStreamId ? undefined : info.streamId;
    if (this.state !== 0) this.state = 2;
  }

  /** Stops the push (if any); the channel stays in its current online/offline state. */
  stopPublish(): void {
    const x = this.extras;
    const p = x?.publish;
    if (!x || !p) return;
    x.publish = null;
    this.stream_id = undefined;
    if (this.state === 2) this.state = 1;
    p.task.stop();
  }

  startRecord(info: RecordInfo): void {
    this.x.record = info;
    this.record_session = info.sessionId;
  }

  /** `keepSession`: `record_session` stays in Keepalives (the vendor firmware after StopCloudRecord). */
  stopRecord(keepSession = false): void {
    const x = this.extras;
    const r = x?.record;
    if (!x || !r) return;
    x.record = null;
    if (!keepSession) this.record_session = undefined;
    r.task.stop();
  }

  /** Reboot or back online: offline stops all media work. */
  setOnline(online: boolean): void {
    if (!online) {
      this.stopPublish();
      this.stopRecord();
      this.state = 0;
    } else if (this.state === 0) {
      this.state = 1;
    }
  }

  isAlarmActive(type: number): boolean {
    return (this.#alarmTypes & (1 << type)) !== 0;
  }

  /** Sets or clears an alarm type; `bitOffset` is the profile's keepalive bit layout. */
  setAlarm(type: number, active: boolean, bitOffset: number): void {
    this.#alarmTypes = active ? this.#alarmTypes | (1 << type) : this.#alarmTypes & ~(1 << type);
    let bits = 0;
    for (let t = 2; t <= 4; t++) if (this.#alarmTypes & (1 << t)) bits |= 1 << (t + bitOffset);
    this.alarm = bits === 0 ? undefined : bits;
  }

  /** Timer slot `i` (see timer-kinds.ts), created by `make` on first use. */
  timer(i: number, make: () => Timer): Timer {
    const timers = this.x.timers;
    let t = timers[i];
    if (!t) {
      t = make();
      timers[i] = t;
    }
    return t;
  }

  /** Existing timer of slot `i`, without creating one. */
  peekTimer(i: number): Timer | null {
    return this.extras?.timers[i] ?? null;
  }

  mediaFailed(task: MediaTask, detail: string): void {
    const x = this.extras;
    if (!x) return;
    if (x.publish?.task === task) {
      x.publish = null;
      this.stream_id = undefined;
      if (this.state === 2) this.state = 1;
      x.owner.channelMediaFailed(this, 'publish', detail);
    } else if (x.record?.task === task) {
      x.record = null;
      this.record_session = undefined;
      x.owner.channelMediaFailed(this, 'record', detail);
    }
  }
}
