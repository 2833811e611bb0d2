import type { KeepaliveParams } from '../protocol/methods.js';

/** A channel as the device last reported it in a Keepalive. */
export interface ChannelInfo {
  channel: number;
  state: number;
  stream_id: string;
  record_session: string;
  alarm: number;
}

export interface AlarmInfo {
  channel: number;
  type: number;
  state: string;
  desc: string;
  at: number;
}

export interface ViolationInfo {
  rule: string;
  detail: string;
  at: number;
}

export interface CloseSummary {
  reason: string;
  code: number;
  detail: string;
  at: number;
}

/**
 * What the platform knows about one login code, kept across its connections. Plain fields in a
 * class (one hidden class for 10k devices); counters created lazily so a clean device costs
 * a few hundred bytes.
 */
export class DeviceRecord {
  online = false;
  hardwareModel = '';
  firmwareModel = '';
  remoteAddress = '';
  /** Epoch ms of the current (or last) login; 0 before any. */
  connectedAt = 0;
  disconnectedAt = 0;
  lastKeepaliveAt = 0;
  /** Device state of the last Keepalive: 1 online, 2 upgrading, 3 abnormal. */
  state = 0;
  channels: ChannelInfo[] = [];
  logins = 0;
  keepalives = 0;
  alarms = 0;
  lastAlarm: AlarmInfo | null = null;
  alarmPictures = 0;
  alarmPictureBytes = 0;
  keepaliveIntervalSum = 0;
  keepaliveIntervalCount = 0;
  violations: Record<string, number> | null = null;
  /** Deviations like the vendor firmware's (not a violation unless the platform is strict). */
  vendorQuirks: Record<string, number> | null = null;
  /** Recording segments uploaded by this device (whoever ordered the recording). */
  recordSegments = 0;
  recordBytes = 0;
  /** Channel → stream id of an RTMPPublish the device accepted (to notice a missing stream_id). */
  publishOrders: Map<number, string> | null = null;
  /** Recording sessions the device answered StopCloudRecord for (to notice one left in Keepalives). */
  stoppedRecordings: Set<string> | null = null;
  lastViolation: ViolationInfo | null = null;
  lastClose: CloseSummary | null = null;

  /**
   * @param seq the platform's running number of records: the order of `GET /api/devices` pages
   */
  constructor(
    readonly loginCode: string,
    readonly seq: number,
  ) {}

  /**
   * Keeps the known fields of at most `maxChannels` channels, strings cut to `maxString`; says
   * whether anything had to be cut.
   */
  applyKeepalive(
    params: KeepaliveParams,
    now: number,
    maxChannels: number,
    maxString: number,
  ): { channelsCut: boolean; stringsCut: boolean } {
    this.state = params.state;
    let stringsCut = false;
    const bounded = (text: string | undefined): string => {
      if (text === undefined) return '';
      if (text.length <= maxString) return text;
      stringsCut = true;
      return text.slice(0, maxString);
    };
    const kept =
      params.channels.length > maxChannels ? params.channels.slice(0, maxChannels) : params.channels;
    // Known fields only: the device's extra keys are not kept.
    this.channels = kept.map((c) => ({
      channel: c.channel,
      state: c.state,
      stream_id: bounded(c.stream_id),
      record_session: bounded(c.record_session),
      alarm: c.alarm ?? 0,
    }));
    this.lastKeepaliveAt = now;
    return { channelsCut: kept !== params.channels, stringsCut };
  }

  countViolation(rule: string, detail: string, now: number): void {
    if (this.violations === null) this.violations = {};
    this.violations[rule] = (this.violations[rule] ?? 0) + 1;
    // Details quote device data: bounded, so a record stays small whatever the device sends.
    this.lastViolation = { rule, detail: detail.slice(0, 300), at: now };
  }

  countQuirk(rule: string): void {
    if (this.vendorQuirks === null) this.vendorQuirks = {};
    this.vendorQuirks[rule] = (this.vendorQuirks[rule] ?? 0) + 1;
  }

  /** The admin API view: snake_case, ISO times, no secrets (the record never holds any). */
  toJSON(): Record<string, unknown> {
    const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : null);
    return {
      login_code: this.loginCode,
      online: this.online,
      hardware_model: this.hardwareModel,
      firmware_model: this.firmwareModel,
      remote_address: this.remoteAddress,
      connected_at: iso(this.connectedAt),
      disconnected_at: iso(this.disconnectedAt),
      last_keepalive_at: iso(this.lastKeepaliveAt),
      state: this.state,
      channels: this.channels,
      logins: this.logins,
      keepalives: this.keepalives,
      keepalive_interval_mean_ms:
        this.keepaliveIntervalCount > 0
          ? Math.round(this.keepaliveIntervalSum / this.keepaliveIntervalCount)
          : null,
      alarms: this.alarms,
      last_alarm: this.lastAlarm ? { ...this.lastAlarm, at: iso(this.lastAlarm.at) } : null,
      alarm_pictures: this.alarmPictures,
      alarm_picture_bytes: this.alarmPictureBytes,
      violations: this.violations ?? {},
      vendor_quirks: this.vendorQuirks ?? {},
      record_segments: this.recordSegments,
      record_bytes: this.recordBytes,
      last_violation: this.lastViolation ? { ...this.lastViolation, at: iso(this.lastViolation.at) } : null,
      last_close: this.lastClose ? { ...this.lastClose, at: iso(this.lastClose.at) } : null,
    };
  }
}
