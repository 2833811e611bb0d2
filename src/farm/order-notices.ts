// What a worker tells the coordinator about the orders its devices get, when the platform is
// asked through its user API (a remote target with `platform:` and `api:`): which devices are
// online with which channels (so the coordinator knows what it may order), when an order reached
// a device (RTMPPublish / StartCloudRecord received), when its stream went live at the platform's
// RTMP server, and what each stream sent. Times are epoch ms of this machine's clock.

import type { DeviceIdentity, DeviceState } from '../device/observer.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import { DeviceMetrics } from './device-metrics.js';

export type OrderMethod = 'RTMPPublish' | 'StartCloudRecord';

export type StreamMark =
  /** The device received the order (its handler accepted it). */
  | { event: 'delivered'; method: OrderMethod; loginCode: string; channel: number; at: number }
  /** The RTMP server accepted the publish (NetStream.Publish.Start) and the first media tag went out. */
  | { event: 'live'; loginCode: string; channel: number; at: number }
  /** The push ended (stopped or failed): media bytes it sent over how long it was live. */
  | { event: 'ended'; loginCode: string; channel: number; mediaBytes: number; liveMs: number };

export type OrderNotice =
  /** Online with `channels` channels, of which the first `pushing` push by themselves; offline: channels 0. */
  | { type: 'device'; loginCode: string; channels: number; pushing: number }
  | { type: 'stream'; mark: StreamMark };

/** A sink of marks (a worker posts them to its coordinator). */
export type StreamMarks = (mark: StreamMark) => void;

/**
 * The device metrics of a worker whose coordinator orders through the API: every login and
 * every loss of the connection is noticed too.
 */
export class NoticedDeviceMetrics extends DeviceMetrics {
  constructor(
    registry: MetricsRegistry,
    mix: string,
    private readonly notify: (notice: OrderNotice) => void,
    private readonly channelsOf: (device: DeviceIdentity) => { channels: number; pushing: number },
  ) {
    super(registry, mix);
  }

  override stateChanged(device: DeviceIdentity, from: DeviceState, to: DeviceState): void {
    super.stateChanged(device, from, to);
    if (to === 'online' && from !== 'online') {
      this.notify({ type: 'device', loginCode: device.loginCode, ...this.channelsOf(device) });
    } else if (from === 'online' && to !== 'online') {
      this.notify({ type: 'device', loginCode: device.loginCode, channels: 0, pushing: 0 });
    }
  }
}
