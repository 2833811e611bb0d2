import type { AlarmType, Quality, StartCloudRecordParams } from '../protocol/methods.js';
import { type DetectConfig, defaultDetectConfig } from './detection.js';
import type { MediaEvents, MediaTask } from './media-sink.js';
import { Ptz } from './ptz.js';
import type { Timer } from './scheduler.js';

/** Told when a channel's media fails on its own (implemented by the device). */
export interface ChannelOwner {
  channelMediaFailed(channel: Channel, kind: 'publish' | 'record', detail: string): void;
}

export interface PublishInfo {
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

  #owner: ChannelOwner;
  #publish: PublishInfo | null = null;
  #record: RecordInfo | null = null;
  /** Active alarm types as bit `type`, whatever the profile's keepalive layout. */
  #alarmTypes = 0;
  #ptz: Ptz | null = null;
  #move: DetectConfig = defaultDetectConfig;
  #rect: DetectConfig = defaultDetectConfig;
  /** [reboot, alarm type 2, 3, 4], created on first use. */
  #timers: Array<Timer | null> | null = null;

  constructor(channel: number, owner: ChannelOwner) {
    this.channel = channel;
    this.#owner = owner;
  }

  get publishing(): PublishInfo | null {
    return this.#publish;
  }

  get recording(): RecordInfo | null {
    return this.#record;
  }

  get moveDetect(): DetectConfig {
    return this.#move;
  }

  set moveDetect(config: DetectConfig) {
    this.#move = config;
  }

  get rectDetect(): DetectConfig {
    return this.#rect;
  }

  set rectDetect(config: DetectConfig) {
    this.#rect = config;
  }

  /** The detection config that governs an alarm type (external alarms have none). */
  detectConfigFor(type: AlarmType): DetectConfig | null {
    return type === 3 ? this.#move : type === 4 ? this.#rect : null;
  }

  get ptz(): Ptz {
    this.#ptz ??= new Ptz();
    return this.#ptz;
  }

  get hasPtz(): boolean {
    return this.#ptz !== null;
  }

  startPublish(info: PublishInfo): void {
    this.#publish = info;
    this.stream_id = info.streamId;
    if (this.state !== 0) this.state = 2;
  }

  /** Stops the push (if any); the channel stays in its current online/offline state. */
  stopPublish(): void {
    const p = this.#publish;
    if (!p) return;
    this.#publish = null;
    this.stream_id = undefined;
    if (this.state === 2) this.state = 1;
    p.task.stop();
  }

  startRecord(info: RecordInfo): void {
    this.#record = info;
    this.record_session = info.sessionId;
  }

  stopRecord(): void {
    const r = this.#record;
    if (!r) return;
    this.#record = null;
    this.record_session = undefined;
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

  /** Timer slot `i` (0 reboot, 2–4 alarm end of that type), created by `make` on first use. */
  timer(i: number, make: () => Timer): Timer {
    this.#timers ??= [null, null, null, null, null];
    let t = this.#timers[i];
    if (!t) {
      t = make();
      this.#timers[i] = t;
    }
    return t;
  }

  /** Existing timer of slot `i`, without creating one. */
  peekTimer(i: number): Timer | null {
    return this.#timers?.[i] ?? null;
  }

  mediaFailed(task: MediaTask, detail: string): void {
    if (this.#publish?.task === task) {
      this.#publish = null;
      this.stream_id = undefined;
      if (this.state === 2) this.state = 1;
      this.#owner.channelMediaFailed(this, 'publish', detail);
    } else if (this.#record?.task === task) {
      this.#record = null;
      this.record_session = undefined;
      this.#owner.channelMediaFailed(this, 'record', detail);
    }
  }
}
