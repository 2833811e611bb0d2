import { ALARM_TYPE_DESCS as alarmDesc, FIRST_ALARM_TYPE, LAST_ALARM_TYPE } from '../core/alarm-types.js';
import type { AlarmType } from '../protocol/methods.js';
import type { Channel } from './channel.js';
import { isArmed, secondsOfDay } from './detection.js';
import type { SimulatedDevice } from './device.js';

/**
 * A device's alarms (IVR-RPC.md "AlarmNotify", contract item 6): start and end notifications,
 * the keepalive alarm bits, the alarm picture. The alarm's end is a channel timer (slot = type)
 * whose target is the device, which hands it back to `endAlarm`.
 */

function ignore(): void {}

/** See `SimulatedDevice.raiseAlarm`. */
export function raiseAlarm(
  device: SimulatedDevice,
  channel: number,
  type: AlarmType,
  durationMs: number,
): boolean {
  const ch = device.channelOf(channel);
  if (!ch || ch.state === 0 || !device.connection || type < FIRST_ALARM_TYPE || type > LAST_ALARM_TYPE)
    return false;
  const config = ch.detectConfigFor(type);
  if (config && !isArmed(config, secondsOfDay(device.now()))) return false;
  device.armChannelTimer(ch, type, durationMs + (config ? config.delay * 1000 : 0));
  if (ch.isAlarmActive(type)) return true;
  ch.setAlarm(type, true, device.traits.alarmBitOffset);
  device.observer.alarmRaised(device, channel, type);
  notifyAlarm(device, ch.channel, type, 'start');
  return true;
}

/** The alarm's time is up: clear its bit and tell the platform. */
export function endAlarm(device: SimulatedDevice, ch: Channel, type: number): void {
  if (!ch.isAlarmActive(type)) return;
  ch.setAlarm(type, false, device.traits.alarmBitOffset);
  notifyAlarm(device, ch.channel, type, 'end');
}

/** Ends every alarm of the channel silently (reboot, stop): no AlarmNotify end is sent. */
export function clearAlarms(device: SimulatedDevice, ch: Channel): void {
  for (let type = FIRST_ALARM_TYPE; type <= LAST_ALARM_TYPE; type++) {
    device.cancelChannelTimer(ch, type);
    if (ch.isAlarmActive(type)) ch.setAlarm(type, false, device.traits.alarmBitOffset);
  }
}

function notifyAlarm(device: SimulatedDevice, channel: number, type: number, state: 'start' | 'end'): void {
  const peer = device.connection;
  if (!peer) return;
  const call = peer.call('AlarmNotify', { channel, type, state, desc: alarmDesc[type] ?? 'alarm' });
  device.alarmNotified();
  // The vendor firmware ignores pic_upload_url.
  if (state === 'end' || device.traits.noAlarmPicture) {
    call.catch(ignore);
    return;
  }
  call.then((answer) => {
    const url = (answer as { pic_upload_url?: unknown } | null)?.pic_upload_url;
    if (typeof url === 'string' && url !== '') {
      device.media.uploadAlarmPicture({ loginCode: device.loginCode, channel, type, url });
    }
  }, ignore);
}
