import type { Random } from '../core/random.js';
import type { Scheduler } from '../core/scheduler.js';
import type { DeadlineSweeper } from '../protocol/deadline-sweeper.js';
import type { Quality, RTMPPublishConfigEntry } from '../protocol/methods.js';
import type { MediaSink } from './media-sink.js';
import type { DeviceObserver } from './observer.js';
import type { DeviceTimings, ProfileName, VendorTraits } from './profile.js';

/** Misbehaviour injected into one device (all off by default). */
export interface DeviceFaults {
  /** Every answer to a platform request is delayed by this many ms. */
  slowAnswerMs?: number;
  /** Probability (0–1) that a platform request gets no answer at all. */
  dropAnswerProbability?: number;
  /** Probability (0–1), per keepalive, of sending an invalid packet just before it. */
  malformedProbability?: number;
}

export interface DeviceTls {
  /** PEM file of the CA that signed the platform's certificate (read once per path). */
  caFile?: string;
  /** PEM text of that CA, instead of a file. */
  ca?: string;
  /** Accept any certificate (self-signed test platforms). */
  insecure?: boolean;
}

/** What a device accepts from a platform it does not trust (defaults: `defaultLimits`). */
export interface DeviceLimits {
  /** Largest incoming WebSocket message; a larger one closes the connection (`message_too_large`). */
  maxMessageBytes?: number;
  /** Largest firmware download; a larger one is abandoned (`firmwareChecked('too_large')`). */
  firmwareMaxBytes?: number;
}

export const defaultLimits: Readonly<Required<DeviceLimits>> = Object.freeze({
  // The reference platform refuses messages over 4 MiB too; real packets are a few KB.
  maxMessageBytes: 4 * 1024 * 1024,
  firmwareMaxBytes: 256 * 1024 * 1024,
});

/** The limits with defaults filled in (no allocation for a device without its own limits). */
export function resolveLimits(limits: DeviceLimits | undefined): Readonly<Required<DeviceLimits>> {
  return limits ? { ...defaultLimits, ...limits } : defaultLimits;
}

/** Nominal bitrate per quality, bit/s: what the bitrate check and the media sink use. */
export type Bitrates = Readonly<Record<Quality, number>>;
export const defaultBitrates: Bitrates = Object.freeze({
  ld: 256_000,
  sd: 512_000,
  hd: 2_000_000,
  fhd: 4_000_000,
});

/** One device. Share nested objects (timings, bitrates, faults, tls, limits) between devices: they are read-only. */
export interface DeviceConfig {
  /** Platform endpoint without login query, e.g. `ws://127.0.0.1:8080/ivc` or `wss://…`. */
  url: string;
  loginCode: string;
  password: string;
  /** Position in the fleet, reported to observers. */
  index?: number;
  hardwareModel?: string;
  firmwareModel?: string;
  /** A camera has one channel (0); an NVR `channels` of them (0 … n-1). */
  kind?: 'camera' | 'nvr';
  channels?: number;
  profile?: ProfileName;
  /** Single habits of IVR-RPC.md "Observed on the wire" switched on or off over the profile's. */
  traits?: Partial<VendorTraits>;
  faults?: DeviceFaults;
  /** Source address of the WebSocket (spread sockets over 127.0.0.x). */
  localAddress?: string;
  tls?: DeviceTls;
  bitrates?: Partial<Bitrates>;
  timings?: Partial<DeviceTimings>;
  limits?: DeviceLimits;
  /**
   * A standing push configuration the device starts with (as if SetRTMPPublishConfig had set it):
   * entries with `enable: true` push from login on, by themselves, and are retried after failures.
   */
  rtmpPublishConfig?: RTMPPublishConfigEntry[];
  /** Simulated PTZ presets per channel (default 3) and preset tours (default 2). */
  ptzPresets?: number;
  ptzTours?: number;
}

/** What a worker shares between its devices. */
export interface DeviceEnv {
  scheduler: Scheduler;
  observer?: DeviceObserver;
  media?: MediaSink;
  /** Per-device seeded source (`seededRandom(deviceSeed(seed, index))`) for repeatable runs. */
  random?: Random;
  /** Wall clock, epoch ms (the device clock adds its SyncTime offset to it). */
  clock?: () => number;
  /** Deadline sweeper for RPC timeouts (default: the thread's shared one). */
  sweeper?: DeadlineSweeper;
}
