import type { DeviceTls } from '../device/config.js';
import type { DeviceTimings, VendorTraits } from '../device/profile.js';
import type { MetricsDelta } from '../metrics/delta.js';
import type { AlarmPlan, DevicePush, Quality } from '../scenario/types.js';
import type { OrderNotice } from './order-notices.js';
import type { PlannedDevice } from './plan.js';

/** Everything a worker needs to run its shard; structured-cloned once at spawn. */
export interface WorkerInit {
  workerIndex: number;
  /** Platform endpoint without the login query (the first of `urls`). */
  url: string;
  /** Every endpoint of the platform: each device logs in to `targetUrlFor(its login code, urls)`. */
  urls: string[];
  tls: DeviceTls | null;
  /** The devices' login password (kept in memory only; never logged). */
  password: string;
  devices: PlannedDevice[];
  seed: number;
  bitrates: Record<Quality, number>;
  timings: Partial<DeviceTimings>;
  /** Habits switched over the profile's, by mix entry name (entries without any are absent). */
  traits: Record<string, Partial<VendorTraits>>;
  startupJitterMs: number;
  alarms: AlarmPlan | null;
  /** The rendition ladder (manifest.json) for RTMP pushes and recordings; null: media is not sent. */
  mediaDir: string | null;
  /** Local addresses for media sockets (RTMP, HTTP uploads), as for the devices' WebSockets. */
  sourceAddresses: string[];
  /** Devices that push by themselves; `url` has {login_code} and {channel} to fill in. */
  push: DevicePush | null;
  /** The coordinator orders through the platform's API: post `OrderNotice`s (logins, orders received, streams live). */
  noticeOrders?: boolean;
  /** Fault injection for tests of crash handling: the worker throws after this many ms. */
  crashAfterMs?: number;
}

export type ToWorker =
  /** Keep the first `running` devices of the shard started (closed model: may go down; open model: only up). */
  | { type: 'target'; running: number }
  /** Drop a fraction of the online devices; each reconnects after `reconnectAfterMs` (null: its own back-off). */
  | { type: 'disconnect'; fraction: number; reconnectAfterMs: number | null; overMs: number }
  /** Reboot a fraction of the online devices (a channel, or the whole device when `channel` is null). */
  | { type: 'reboot'; fraction: number; channel: number | null; downtimeMs: number; overMs: number }
  | { type: 'alarms'; plan: AlarmPlan | null }
  /** Stop every device cleanly, flush metrics, exit. */
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready'; devices: number }
  | { type: 'metrics'; delta: MetricsDelta }
  | { type: 'notice'; notice: OrderNotice }
  /** The last delta, after every device stopped. */
  | { type: 'stopped'; delta: MetricsDelta };
