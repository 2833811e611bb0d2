import type { Scheduler, Timer, TimerTarget } from '../core/scheduler.js';
import type { Channel } from './channel.js';

/**
 * A device's timers all have the device itself as target (one shared `onTimer` for a fleet), so
 * the timer's `kind` number tells which timer fired. Device-level kinds are small numbers;
 * a channel's timers are `CHANNEL_KIND_BASE + channel * CHANNEL_SLOTS + slot`. This module is
 * the only place that does the arithmetic.
 */

/** Device-level timer kinds. */
export const DeviceTimer = {
  Keepalive: 0,
  /** Offline: the next connect (back-off, reboot, storm, upgrade); connecting: handshake timeout. */
  Life: 1,
  Preview: 2,
  Firmware: 3,
  SlowAnswer: 4,
  Upgrade: 5,
  /** The vendor camera's alarm-channel heartbeat (an extra Keepalive out of step). */
  AlarmHeartbeat: 6,
} as const;

/** Device-level timer kinds, one past the largest. */
export const DEVICE_TIMER_COUNT = 7;

/** Per-channel timer slots; slots 2–4 are the alarm types (the slot number is the type). */
export const ChannelSlot = {
  Reboot: 0,
  /** Retry of a failed standing push. */
  PushRetry: 1,
} as const;

/** Slots per channel (0 reboot, 1 push retry, 2–4 alarm end of that type). */
export const CHANNEL_SLOTS = 8;
/** Slots actually used, for cancelling every timer of a channel. */
export const CHANNEL_SLOTS_USED = 5;
const CHANNEL_KIND_BASE = 8;

/** The `kind` of channel `channel`'s timer in `slot`. */
export function channelTimerKind(channel: number, slot: number): number {
  return CHANNEL_KIND_BASE + channel * CHANNEL_SLOTS + slot;
}

/** The channel number of a channel timer kind; -1 for a device-level kind. */
export function timerChannel(kind: number): number {
  return kind < CHANNEL_KIND_BASE ? -1 : Math.floor((kind - CHANNEL_KIND_BASE) / CHANNEL_SLOTS);
}

/** The slot of a channel timer kind. */
export function timerSlot(kind: number): number {
  return (kind - CHANNEL_KIND_BASE) % CHANNEL_SLOTS;
}

/** The channel's timer in `slot`, created on first use with `target` (the device) as its target. */
export function channelTimer(scheduler: Scheduler, target: TimerTarget, ch: Channel, slot: number): Timer {
  return ch.timer(slot, () => scheduler.timer(target, channelTimerKind(ch.channel, slot)));
}

/** Cancels every armed timer of the channel (reboot, push retry, alarm ends). */
export function cancelChannelTimers(scheduler: Scheduler, ch: Channel): void {
  for (let slot = 0; slot < CHANNEL_SLOTS_USED; slot++) {
    const t = ch.peekTimer(slot);
    if (t) scheduler.cancel(t);
  }
}
