import type { WebSocket } from 'ws';
import type { RtmpIngestServer } from '../media/rtmp/ingest-server.js';
import type { CloseInfo } from '../protocol/close-reason.js';
import { DeadlineSweeper } from '../protocol/deadline-sweeper.js';
import type { GetFirmwareAnswer } from '../protocol/methods.js';
import { type ConformanceRule, severityOf } from './conformance.js';
import { CredentialChecker } from './credentials.js';
import { DeviceRecord } from './device-record.js';
import { MonitorHub } from './monitor.js';
import type { ResolvedOptions } from './options.js';
import { Recordings } from './recording.js';
import { DeviceSession } from './session.js';
import { IvcStats } from './stats.js';

export type DeviceListener = (device: DeviceRecord) => void;

/** Why a session ended: the peer's close reasons, and the platform's own keepalive timeout. */
export interface DisconnectInfo extends Omit<CloseInfo, 'reason'> {
  reason: CloseInfo['reason'] | 'keepalive_timeout' | 'protocol_error';
}

/** Who is logging in, as read from the upgrade request. */
export interface LoginInfo {
  loginCode: string;
  hardwareModel: string;
  firmwareModel: string;
  remoteAddress: string;
}

/**
 * The platform's state: known devices, their live sessions, counters, listeners, and the one
 * periodic sweep that checks keepalive deadlines of every session (no per-device timers).
 */
export class IvcPlatform {
  readonly stats = new IvcStats();
  /** Every known device, in the order first seen (records are only appended: seq order). */
  readonly devices = new Map<string, DeviceRecord>();
  /** The offline ones, longest offline first: the next to forget past `limits.maxOfflineDevices`. */
  private readonly offline = new Map<string, DeviceRecord>();
  private lastRecordSeq = 0;
  readonly sessions = new Map<string, DeviceSession>();
  readonly checker: CredentialChecker;
  readonly monitor: MonitorHub;
  readonly recordings: Recordings;
  /** Own sweeper so a short test rpcTimeoutMs is honoured promptly. */
  readonly sweeper: DeadlineSweeper;
  /** The RTMP ingest running beside the platform (option `rtmpIngest`), for stream stats. */
  ingest: RtmpIngestServer | null = null;
  /** `http://host:port`, set once the server listens. */
  httpBase = '';
  private readonly readyListeners = new Set<DeviceListener>();
  private readonly offlineListeners = new Set<DeviceListener>();
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(readonly options: ResolvedOptions) {
    this.checker = new CredentialChecker(options.auth);
    this.monitor = new MonitorHub(this);
    this.recordings = new Recordings(this);
    this.sweeper = new DeadlineSweeper(Math.max(20, Math.min(250, options.rpcTimeoutMs / 4)));
    const period = Math.max(50, Math.min(1000, options.firstKeepaliveMs / 2, options.keepaliveMs / 2));
    // (1 s at most: a silent device is closed within a second of its deadline.)
    this.sweepTimer = setInterval(() => this.sweep(), period);
    this.sweepTimer.unref();
  }

  /** Whether one more device may come online (the `maxDevices` knob); a re-login replaces, so it fits. */
  hasRoomFor(loginCode: string): boolean {
    return this.sessions.size < this.options.maxDevices || this.sessions.has(loginCode);
  }

  /** Starts a session for an accepted login; an older connection of the same code is closed. */
  attach(login: LoginInfo, socket: WebSocket): DeviceSession {
    const previous = this.sessions.get(login.loginCode);
    if (previous) {
      this.stats.loginsReplaced++;
      previous.peer.close('local', 'replaced by a new login');
    }
    let record = this.devices.get(login.loginCode);
    if (!record) {
      record = new DeviceRecord(login.loginCode, ++this.lastRecordSeq);
      this.devices.set(login.loginCode, record);
    }
    this.offline.delete(login.loginCode);
    record.online = true;
    record.hardwareModel = login.hardwareModel;
    record.firmwareModel = login.firmwareModel;
    record.remoteAddress = login.remoteAddress;
    record.connectedAt = Date.now();
    record.logins++;
    this.stats.loginsOk++;
    this.stats.online++;
    const session = new DeviceSession(this, record, socket);
    this.sessions.set(login.loginCode, session);
    this.monitor.status(record);
    return session;
  }

  /** A session ended (called once by the session). */
  detach(session: DeviceSession, info: DisconnectInfo): void {
    const record = session.record;
    record.lastClose = { reason: info.reason, code: info.code, detail: info.detail, at: Date.now() };
    this.stats.disconnects[info.reason] = (this.stats.disconnects[info.reason] ?? 0) + 1;
    if (this.sessions.get(record.loginCode) !== session) return;
    this.sessions.delete(record.loginCode);
    this.stats.online--;
    record.online = false;
    record.disconnectedAt = Date.now();
    this.offline.set(record.loginCode, record);
    this.monitor.status(record);
    for (const listener of this.offlineListeners) listener(record);
    this.forgetOldOffline();
  }

  /** Past the cap, the records offline the longest are forgotten (the oldest first). */
  private forgetOldOffline(): void {
    const cap = this.options.limits.maxOfflineDevices;
    for (const [loginCode] of this.offline) {
      if (this.offline.size <= cap) return;
      this.offline.delete(loginCode);
      this.devices.delete(loginCode);
      this.stats.devicesEvicted++;
    }
  }

  /** The first Keepalive of a connection: the device is online with its channels known. */
  deviceReady(session: DeviceSession): void {
    this.monitor.status(session.record);
    for (const listener of this.readyListeners) listener(session.record);
  }

  onDeviceOnline(listener: DeviceListener): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  onDeviceOffline(listener: DeviceListener): () => void {
    this.offlineListeners.add(listener);
    return () => this.offlineListeners.delete(listener);
  }

  /** A conformance breach: a violation, or a vendor quirk counted apart (conformance.ts). */
  violation(record: DeviceRecord, rule: ConformanceRule, detail: string): void {
    const severity = severityOf(rule, this.options.strict);
    if (severity === 'vendor_quirk') {
      record.countQuirk(rule);
      this.stats.vendorQuirks[rule] = (this.stats.vendorQuirks[rule] ?? 0) + 1;
    } else {
      record.countViolation(rule, detail, Date.now());
      this.stats.violations[rule] = (this.stats.violations[rule] ?? 0) + 1;
    }
    this.monitor.violation(record.loginCode, rule, detail, severity);
  }

  /** The `cbk_url` of a recording session: `ivr://` unless `recordUrlScheme` is http. */
  recordCallbackUrl(sessionId: string): string {
    const base =
      this.options.recordUrlScheme === 'ivr' ? this.httpBase.replace(/^http:/, 'ivr:') : this.httpBase;
    return `${base}/record/${sessionId}`;
  }

  firmwareFor(hardwareModel: string): GetFirmwareAnswer {
    const list = this.options.firmware;
    const entry =
      list.find((f) => f.hardware_model === hardwareModel) ?? list.find((f) => f.hardware_model === '');
    if (!entry) return { firmware_model: '', url: '' };
    return { firmware_model: entry.firmware_model, url: `${this.httpBase}/firmware/${entry.name}` };
  }

  alarmUploadUrl(loginCode: string, channel: number): string {
    return `${this.httpBase}/upload/alarm/${encodeURIComponent(loginCode)}/${channel}`;
  }

  /**
   * Keepalive deadlines of all sessions in one pass: a late first Keepalive is counted; a device
   * silent for `keepaliveMissingPeriods` periods (since its last Keepalive, or its login) is
   * counted, marked offline and closed.
   */
  private sweep(): void {
    const o = this.options;
    const now = Date.now();
    const silenceLimit = o.keepaliveMissingPeriods * o.keepaliveMs;
    // Closing a session deletes it from the map: safe while iterating a Map.
    for (const session of this.sessions.values()) {
      const silent = now - (session.hadKeepalive ? session.lastKeepaliveAt : session.loginAt);
      if (silent > silenceLimit) {
        session.violation('keepalive_missing', `no Keepalive for ${silent} ms`);
        session.endForSilence(`keepalive timeout: no Keepalive for ${silent} ms`);
      } else if (!session.hadKeepalive && !session.keepaliveFlagged && silent > o.firstKeepaliveMs) {
        session.keepaliveFlagged = true;
        session.violation('keepalive_first_late', `no Keepalive within ${o.firstKeepaliveMs} ms of login`);
      }
    }
  }

  /** Closes every session and stops the sweep. */
  close(): void {
    clearInterval(this.sweepTimer);
    for (const session of [...this.sessions.values()]) session.peer.close('local', 'platform shutting down');
    this.monitor.close();
  }
}
