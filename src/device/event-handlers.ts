import type { IvtEvent, IvtEventParams } from '../protocol/methods.js';
import { checkParams, ivtEventValidators } from '../protocol/validators.js';
import type { SimulatedDevice } from './device.js';

/**
 * The events an IVT accepts (IVR-RPC.md "Events the IVT accepts"). Events have no answer: a
 * known event with invalid params, or aimed at a channel that does not exist or is offline,
 * is ignored (and reported to the observer); an unknown event is ignored and counted.
 */

type EventHandler<E extends IvtEvent> = (device: SimulatedDevice, params: IvtEventParams<E>) => void;

/** "YYYY-MM-DDTHH:MM:SS" as the device's (UTC) wall clock. */
export function parseSyncTime(datetime: string): number {
  const [date, time] = datetime.split('T') as [string, string];
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi, s] = time.split(':').map(Number) as [number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function ptzChannel(device: SimulatedDevice, event: string, n: number) {
  const ch = device.channelOf(n);
  if (!ch || ch.state === 0) {
    device.observer.eventRejected?.(device, event, ch ? `channel ${n} is offline` : `no channel ${n}`);
    return null;
  }
  return ch;
}

const handlers: { [E in IvtEvent]: EventHandler<E> } = {
  UpgradeFirmware(device) {
    device.checkFirmware();
  },
  SyncTime(device, p) {
    const target = parseSyncTime(p.datetime);
    // Adjust only when the device clock is off by more than `offset` seconds.
    if (Math.abs(target - device.now()) > p.offset * 1000) device.setClock(target);
  },
  CtrlPTZ(device, p) {
    const ch = ptzChannel(device, 'CtrlPTZ', p.channel);
    // The vendor firmware reads `value` for every op: a stop without it does nothing.
    if (p.op === 'stop' && p.value === undefined && device.traits.ptzStopNeedsValue) return;
    ch?.ptz.control(p.op, p.op === 'stop' ? 0 : (p.value ?? 100), device.monotonicNow());
  },
  GotoPTZPreset(device, p) {
    const ch = ptzChannel(device, 'GotoPTZPreset', p.channel);
    if (ch && !ch.ptz.gotoPreset(p.token, device.ptzPresets, device.monotonicNow())) {
      device.observer.eventRejected?.(device, 'GotoPTZPreset', `unknown preset ${p.token}`);
    }
  },
  CtrlPTZPresetTour(device, p) {
    const ch = ptzChannel(device, 'CtrlPTZPresetTour', p.channel);
    if (ch && !ch.ptz.presetTour(p.op, p.token, device.ptzTours, device.monotonicNow())) {
      device.observer.eventRejected?.(device, 'CtrlPTZPresetTour', `unknown tour ${p.token ?? ''}`);
    }
  },
  CtrlPTZPatrol(device, p) {
    ptzChannel(device, 'CtrlPTZPatrol', p.channel)?.ptz.setPatrol(p.op, device.monotonicNow());
  },
};

const table = new Map<string, EventHandler<IvtEvent>>(
  Object.entries(handlers) as Array<[string, EventHandler<IvtEvent>]>,
);

export function handleIvtEvent(device: SimulatedDevice, event: string, params: unknown): void {
  const handler = table.get(event);
  device.observer.eventReceived(device, event, handler !== undefined);
  if (!handler) return;
  const invalid = checkParams(ivtEventValidators, event, params);
  if (invalid !== null) {
    device.observer.eventRejected?.(device, event, invalid);
    return;
  }
  handler(device, params as never);
}
