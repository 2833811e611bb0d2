/**
 * The two behaviour profiles in one table: `spec` follows IVR-RPC.md and this project's
 * contract; `vendor` behaves like the vendor's public device SDK (the facts at the end of
 * IVR-RPC.md). Code reads traits from here instead of branching on the profile name.
 */
export type ProfileName = 'spec' | 'vendor';

/** Every duration the device uses, in ms. Tests and scenarios override single fields. */
export interface DeviceTimings {
  keepaliveMs: number;
  /** No answer to one of our requests within this time closes the connection. */
  rpcTimeoutMs: number;
  /** WebSocket upgrade must complete within this time. */
  handshakeTimeoutMs: number;
  /** The whole firmware download (headers and body) must finish within this time. */
  firmwareTimeoutMs: number;
  /** RebootChannel: how long the channel (a camera: the whole device) stays offline. */
  rebootMs: number;
  /** UpgradeFirmware: how long state 2 is reported after the download, before reconnecting. */
  upgradeMs: number;
  /** `exponential` reconnect: first wait bound and cap (full jitter: uniform in [0, bound]). */
  backoffInitialMs: number;
  backoffCapMs: number;
  /** `vendor` reconnect: the slow rhythm (first login, and after the quick retries). */
  retryMinMs: number;
  retryMaxMs: number;
  /** `vendor` reconnect: the quick retries right after a loss. */
  quickRetryMinMs: number;
  quickRetryMaxMs: number;
  quickRetries: number;
  /** Period of the vendor's `preview_server` request. */
  previewServerMs: number;
  /** A standing push (SetRTMPPublishConfig `enable: true`) that failed is retried after this long. */
  pushRetryMs: number;
  /** Largest random delay before the first login (spreads a fleet's start); 0 = none. */
  startDelayMaxMs: number;
  /** `loginKeepalivePair`: gap between the two Keepalives at login (the vendor's 3–14 ms). */
  loginPairMinMs: number;
  loginPairMaxMs: number;
  /** `alarmDelaysKeepalive`: how much later the next Keepalive comes after an AlarmNotify. */
  alarmKeepaliveDelayMinMs: number;
  alarmKeepaliveDelayMaxMs: number;
  /** `alarmHeartbeatKeepalive`: period of the camera's alarm-channel heartbeat. */
  alarmHeartbeatMs: number;
}

/**
 * The vendor firmware's habits seen on the wire (IVR-RPC.md "Observed on the wire"), one flag
 * each, so a scenario can take `profile: vendor` and switch single habits off (or onto `spec`).
 */
export interface VendorTraits {
  /** Two Keepalives `loginPairMinMs`–`loginPairMaxMs` apart right after login. */
  loginKeepalivePair: boolean;
  /** An AlarmNotify takes the Keepalive's turn: the next one comes 2–4 s later. */
  alarmDelaysKeepalive: boolean;
  /** Every `alarmHeartbeatMs` an extra Keepalive out of step (the alarm-channel heartbeat). */
  alarmHeartbeatKeepalive: boolean;
  /** Empty answers are `"resp": ""` instead of `{}` (the methods the vendor answers so). */
  emptyAnswerString: boolean;
  /** GetPTZPresetTourList without tours answers `"resp": null`. */
  nullEmptyTourList: boolean;
  /** Keepalive channel entries never carry `stream_id`. */
  keepaliveOmitsStreamId: boolean;
  /** `record_session` stays in Keepalives after StopCloudRecord (until the next recording). */
  recordSessionAfterStop: boolean;
  /** CtrlPTZ `op: "stop"` without `value` is ignored. */
  ptzStopNeedsValue: boolean;
  /** `pic_upload_url` is ignored: no alarm picture is uploaded. */
  noAlarmPicture: boolean;
  /** An unsupported method is answered `{"code":101,"msg":"error"}`. */
  plainUnsupported: boolean;
  /** Closing (stop) sends a close frame with an invalid close code. */
  malformedClose: boolean;
  /** Every recording POST and PUT on a new TCP connection (no keep-alive reuse). */
  connectionPerUpload: boolean;
}

export type VendorTraitName = keyof VendorTraits;

export interface ProfileTraits extends Readonly<VendorTraits> {
  readonly name: ProfileName;
  /** Seq of the first request on each connection. */
  readonly firstSeq: number;
  /** The document closes on an answer with an unexpected seq; the vendor SDK ignores it. */
  readonly closeOnSeqMismatch: boolean;
  /** `preview_server` as the first request after login and every `previewServerMs`. */
  readonly previewServer: boolean;
  /** Keepalive alarm bit of alarm type t is `1 << (t + alarmBitOffset)`. */
  readonly alarmBitOffset: number;
  /** Bitrate check done in bit/s (0) or in kbit/s after `>> 10` (vendor). */
  readonly maxBitrateShift: number;
  /** Every handler failure answered `{"code":1,"msg":"error"}` instead of its own code. */
  readonly genericErrors: boolean;
  /** Stop RTMP pushes when the connection is lost. */
  readonly stopPublishOnLoss: boolean;
  /** How reconnect waits are chosen. */
  readonly reconnect: 'exponential' | 'vendor';
  /** Check `GetFirmware` daily at 03:xx + 0–600 s. */
  readonly dailyFirmwareCheck: boolean;
  readonly timings: Readonly<DeviceTimings>;
}

const common = {
  rpcTimeoutMs: 20_000,
  handshakeTimeoutMs: 10_000,
  firmwareTimeoutMs: 60_000,
  rebootMs: 30_000,
  upgradeMs: 30_000,
  backoffInitialMs: 1_000,
  backoffCapMs: 60_000,
  retryMinMs: 5_000,
  retryMaxMs: 10_000,
  quickRetryMinMs: 1_000,
  quickRetryMaxMs: 3_000,
  quickRetries: 2,
  previewServerMs: 15 * 60_000,
  pushRetryMs: 5_000,
  startDelayMaxMs: 0,
  loginPairMinMs: 3,
  loginPairMaxMs: 14,
  alarmKeepaliveDelayMinMs: 2_000,
  alarmKeepaliveDelayMaxMs: 4_000,
  alarmHeartbeatMs: 120_000,
};

const specHabits: VendorTraits = {
  loginKeepalivePair: false,
  alarmDelaysKeepalive: false,
  alarmHeartbeatKeepalive: false,
  emptyAnswerString: false,
  nullEmptyTourList: false,
  keepaliveOmitsStreamId: false,
  recordSessionAfterStop: false,
  ptzStopNeedsValue: false,
  noAlarmPicture: false,
  plainUnsupported: false,
  malformedClose: false,
  connectionPerUpload: false,
};

/** The names of the switchable habits (scenario and CLI validation). */
export const vendorTraitNames = Object.keys(specHabits) as VendorTraitName[];

const vendorHabits: VendorTraits = Object.fromEntries(
  vendorTraitNames.map((name) => [name, true]),
) as unknown as VendorTraits;

export const profiles: Readonly<Record<ProfileName, ProfileTraits>> = {
  spec: {
    name: 'spec',
    firstSeq: 1,
    closeOnSeqMismatch: true,
    previewServer: false,
    alarmBitOffset: 0,
    maxBitrateShift: 0,
    genericErrors: false,
    stopPublishOnLoss: false,
    reconnect: 'exponential',
    dailyFirmwareCheck: false,
    ...specHabits,
    timings: Object.freeze({ ...common, keepaliveMs: 10_000 }),
  },
  vendor: {
    name: 'vendor',
    firstSeq: 0,
    closeOnSeqMismatch: false,
    previewServer: true,
    alarmBitOffset: -1,
    maxBitrateShift: 10,
    genericErrors: true,
    stopPublishOnLoss: true,
    reconnect: 'vendor',
    dailyFirmwareCheck: true,
    ...vendorHabits,
    // Measured: the loop waits at most 10 s for an alarm before each Keepalive (median 10.014 s).
    timings: Object.freeze({ ...common, keepaliveMs: 10_000 }),
  },
};

const withHabits = new WeakMap<Partial<VendorTraits>, Map<ProfileName, ProfileTraits>>();

/**
 * A profile with single habits switched (`{ malformedClose: false }`). Shared between devices
 * given the same overrides object, as timings are.
 */
export function resolveProfile(
  name: ProfileName,
  overrides: Partial<VendorTraits> | undefined,
): ProfileTraits {
  const base = profiles[name];
  if (!base) throw new Error(`unknown device profile ${name}`);
  if (!overrides) return base;
  let byProfile = withHabits.get(overrides);
  if (!byProfile) {
    byProfile = new Map();
    withHabits.set(overrides, byProfile);
  }
  let traits = byProfile.get(name);
  if (!traits) {
    for (const key of Object.keys(overrides)) {
      if (!vendorTraitNames.includes(key as VendorTraitName))
        throw new Error(`unknown device trait ${key} (known: ${vendorTraitNames.join(', ')})`);
    }
    const merged: ProfileTraits = { ...base };
    for (const [key, value] of Object.entries(overrides)) {
      if (typeof value === 'boolean') (merged as unknown as Record<string, boolean>)[key] = value;
    }
    traits = Object.freeze(merged);
    byProfile.set(name, traits);
  }
  return traits;
}

const resolved = new WeakMap<Partial<DeviceTimings>, Map<ProfileName, Readonly<DeviceTimings>>>();

/**
 * A profile's timings with overrides applied. The result is shared between devices given the
 * same overrides object, so a fleet built from one scenario entry holds one copy.
 */
export function resolveTimings(
  profile: ProfileTraits,
  overrides: Partial<DeviceTimings> | undefined,
): Readonly<DeviceTimings> {
  if (!overrides) return profile.timings;
  let byProfile = resolved.get(overrides);
  if (!byProfile) {
    byProfile = new Map();
    resolved.set(overrides, byProfile);
  }
  let timings = byProfile.get(profile.name);
  if (!timings) {
    const merged: DeviceTimings = { ...profile.timings };
    for (const key of Object.keys(overrides) as Array<keyof DeviceTimings>) {
      const value = overrides[key];
      if (value !== undefined) merged[key] = value;
    }
    timings = Object.freeze(merged);
    byProfile.set(profile.name, timings);
  }
  return timings;
}
