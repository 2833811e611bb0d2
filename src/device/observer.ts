import type { CloseReason } from '../protocol/close-reason.js';

/** Where a device is in its connection life. */
export type DeviceState =
  | 'idle' // created, not started
  | 'waiting' // started, waiting out its random start-up delay (startup_jitter) before the first login
  | 'connecting' // WebSocket upgrade in progress
  | 'online' // logged in
  | 'backoff' // waiting to reconnect
  | 'upgrading' // downloading firmware / reporting state 2
  | 'rebooting' // a camera's RebootChannel: offline for the reboot time
  | 'stopped';

/** Why a login did not succeed. `refused`: the platform answered the upgrade with an HTTP error. */
export type LoginFailure =
  | { kind: 'refused'; status: number } // 401 bad credentials, 403 disabled, 5xx …
  | { kind: 'failed'; reason: 'timeout' | 'connection_refused' | 'network' | 'tls' | 'other' };

/**
 * Why a device lost its connection: a protocol close reason, its own reboot/upgrade/storm, or a
 * platform message over the device's size limit (`message_too_large`, close code 1009).
 */
export type DisconnectReason = CloseReason | 'reboot' | 'upgrade' | 'storm' | 'message_too_large';

/**
 * How a firmware check ended: `upgraded` (downloaded, reconnecting), `skipped` (same version or
 * not http), `failed` (GetFirmware or the download failed), `too_large` (the download passed
 * the byte cap), `too_slow` (it did not finish within `firmwareTimeoutMs`).
 */
export type FirmwareOutcome = 'upgraded' | 'skipped' | 'failed' | 'too_large' | 'too_slow';

/** Misbehaviour a device was told to show (`DeviceConfig.faults`). */
export type InjectedFault = 'slow_answer' | 'dropped_answer' | 'malformed_packet';

/** The identity a device shows observers (no password). */
export interface DeviceIdentity {
  readonly loginCode: string;
  readonly index: number;
}

/**
 * Every outcome of a simulated device goes through this interface; the farm's metrics implement
 * it once per worker. Methods are called on hot paths: implementations must not allocate or print.
 */
export interface DeviceObserver {
  stateChanged(device: DeviceIdentity, from: DeviceState, to: DeviceState): void;
  loginSucceeded(device: DeviceIdentity, ms: number): void;
  loginFailed(device: DeviceIdentity, failure: LoginFailure, ms: number): void;
  /** A completed RPC: `to_ivc` = the device's own call (ms = round trip), `from_ivc` = a platform call the device answered. */
  rpcCompleted(
    device: DeviceIdentity,
    direction: 'to_ivc' | 'from_ivc',
    method: string,
    ms: number,
    errCode: number | null,
  ): void;
  disconnected(device: DeviceIdentity, reason: DisconnectReason, detail: string): void;
  eventReceived(device: DeviceIdentity, event: string, known: boolean): void;
  alarmRaised(device: DeviceIdentity, channel: number, type: number): void;
  /** A periodic keepalive fired `ms` after it was due (the generator's own timer lateness). */
  keepaliveLate?(device: DeviceIdentity, ms: number): void;
  /** A channel's push or recording failed in the media layer; the channel dropped it (state back to 1). */
  mediaFailed?(device: DeviceIdentity, channel: number, kind: 'publish' | 'record', detail: string): void;
  /** A firmware check ended; `bytes` downloaded (also when the download was cut off). */
  firmwareChecked?(device: DeviceIdentity, outcome: FirmwareOutcome, bytes: number): void;
  /** An injected fault fired (counts what a misbehaving device actually did). */
  faultInjected?(device: DeviceIdentity, fault: InjectedFault): void;
  /** A known event arrived with invalid params and was ignored. */
  eventRejected?(device: DeviceIdentity, event: string, reason: string): void;
}

/** An observer that ignores everything (a device run without metrics). */
export const nullObserver: DeviceObserver = {
  stateChanged() {},
  loginSucceeded() {},
  loginFailed() {},
  rpcCompleted() {},
  disconnected() {},
  eventReceived() {},
  alarmRaised() {},
};
