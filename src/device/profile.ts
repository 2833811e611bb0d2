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
}

export interface ProfileTraits {
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
};

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
    timings: Object.freeze({ ...common, keepaliveMs: 15_000 }),
  },
};

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
