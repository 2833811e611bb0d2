import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { DEFAULT_HARDWARE_MODEL } from '../core/device-defaults.js';
import type { Random } from '../core/random.js';
import type { Scheduler, Timer, TimerTarget } from '../core/scheduler.js';
import type { CloseInfo } from '../protocol/close-reason.js';
import type { DeadlineSweeper } from '../protocol/deadline-sweeper.js';
import { RpcError } from '../protocol/errors.js';
import type { AlarmType, GetFirmwareAnswer, Quality, RTMPPublishConfigEntry } from '../protocol/methods.js';
import { type PeerHandler, RpcPeer } from '../protocol/peer.js';
import { checkAnswer, ivcMethodValidators } from '../protocol/validators.js';
import { clearAlarms, endAlarm, raiseAlarm } from './alarms.js';
import { quickRetriesExhausted, reconnectDelay } from './backoff.js';
import { Channel, type ChannelOwner } from './channel.js';
import {
  type Bitrates,
  type DeviceConfig,
  type DeviceEnv,
  defaultBitrates,
  resolveLimits,
} from './config.js';
import {
  caFromFile,
  classifyLoginError,
  isMessageTooLarge,
  loginUrl,
  openSocket,
  writeMalformedClose,
} from './connect.js';
import { secondsOfDay } from './detection.js';
import { handleIvtEvent } from './event-handlers.js';
import { FaultInjector } from './faults.js';
import { downloadFirmware, FirmwareDownloadError, wantsUpgrade } from './firmware.js';
import { type MediaSink, noMedia } from './media-sink.js';
import { type DeviceIdentity, type DeviceObserver, type DeviceState, nullObserver } from './observer.js';
import { type DeviceTimings, type ProfileTraits, resolveProfile, resolveTimings } from './profile.js';
import type { PtzStatus } from './ptz.js';
import { serveIvtRequest } from './rpc-handlers.js';
import { StandingPush } from './standing-push.js';
import {
  ChannelSlot,
  cancelChannelTimers,
  channelTimer,
  DEVICE_TIMER_COUNT,
  DeviceTimer,
  timerChannel,
  timerSlot,
} from './timer-kinds.js';
import { Wifi } from './wifi.js';

/** The vendor SDK's answer to every handler failure. */
const GENERIC_ERROR = new RpcError(1, 'error');

function ignore(): void {}

/** Why the device itself closes its connection (reported instead of the peer's 'local'). */
type CloseIntent = 'stop' | 'reboot' | 'upgrade' | 'storm' | 'too_large';

/**
 * One simulated IVT (camera or NVR) speaking IVR RPC: logs in over WebSocket, keeps alive,
 * answers every IVT method and event, reconnects with the profile's rhythm, and can be made to
 * misbehave. Every timer goes through the shared `Scheduler`; every outcome goes to the
 * `DeviceObserver`. The device object itself is the peer handler and the timer target, so a
 * fleet shares one set of functions and allocates nothing per keepalive beyond the packet.
 */
export class SimulatedDevice implements DeviceIdentity, PeerHandler, TimerTarget, ChannelOwner {
  readonly loginCode: string;
  readonly index: number;
  readonly kind: 'camera' | 'nvr';
  readonly traits: ProfileTraits;
  readonly timings: Readonly<DeviceTimings>;
  readonly bitrates: Bitrates;
  readonly channels: readonly Channel[];
  readonly observer: DeviceObserver;
  readonly media: MediaSink;
  readonly ptzPresets: number;
  readonly ptzTours: number;

  private readonly config: DeviceConfig;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  private readonly wallClock: () => number;
  private readonly sweeper: DeadlineSweeper | undefined;
  private readonly faults: FaultInjector | null;
  private _state: DeviceState = 'idle';
  private _firmware: string;
  private peer: RpcPeer | null = null;
  /** The socket while its upgrade is in progress. */
  private ws: WebSocket | null = null;
  private attemptStartedAt = 0;
  private connectedAt = 0;
  /** Reconnect attempts since the back-off was last reset. */
  private attempt = 0;
  private everLoggedIn = false;
  private clockOffsetMs = 0;
  private health: 1 | 3 = 1;
  private intent: CloseIntent | null = null;
  private stormDelayMs = -1;
  private pendingReboot: Channel | null = null;
  /** How long the reboot in progress keeps the device offline (a storm may set its own). */
  private rebootDowntimeMs = 0;
  private pendingFirmware: string | null = null;
  private readonly kaParams: { state: 1 | 2 | 3; channels: readonly Channel[] };
  private readonly kaTimer: Timer;
  /** When the armed keepalive is due (scheduler clock), to measure how late it fires. */
  private kaDueAt = 0;
  private readonly lifeTimer: Timer;
  /** Preview, firmware and upgrade timers, created on first use. */
  private aux: Array<Timer | null> | null = null;
  private _wifi: Wifi | null = null;
  /** Created on first use: most devices never see SetRTMPPublishConfig. */
  private standing: StandingPush | null = null;
  /** The connection's TCP socket, kept only by devices that close with a malformed frame. */
  private rawSocket: Socket | null = null;
  /** An AlarmNotify already took this keepalive period's turn. */
  private kaPostponed = false;

  constructor(config: DeviceConfig, env: DeviceEnv) {
    if (!/^wss?:\/\//.test(config.url))
      throw new Error(`device url must start with ws:// or wss:// (${config.url})`);
    // A missing CA file is a configuration error: fail now, not on every reconnect.
    if (config.tls?.caFile) caFromFile(config.tls.caFile);
    this.config = config;
    this.loginCode = config.loginCode;
    this.index = config.index ?? 0;
    this.kind = config.kind ?? 'camera';
    this.traits = resolveProfile(config.profile ?? 'spec', config.traits);
    this.timings = resolveTimings(this.traits, config.timings);
    this.bitrates = config.bitrates ? { ...defaultBitrates, ...config.bitrates } : defaultBitrates;
    this._firmware = config.firmwareModel ?? 'sim-1.0.0';
    this.ptzPresets = config.ptzPresets ?? 3;
    this.ptzTours = config.ptzTours ?? 2;
    const count = this.kind === 'camera' ? 1 : Math.max(1, config.channels ?? 4);
    const channels: Channel[] = [];
    for (let i = 0; i < count; i++) channels.push(new Channel(i, this));
    this.channels = channels;
    this.kaParams = { state: 1, channels };
    this.scheduler = env.scheduler;
    this.observer = env.observer ?? nullObserver;
    this.media = env.media ?? noMedia;
    this.random = env.random ?? Math.random;
    this.wallClock = env.clock ?? Date.now;
    this.sweeper = env.sweeper;
    this.kaTimer = this.scheduler.timer(this, DeviceTimer.Keepalive);
    this.lifeTimer = this.scheduler.timer(this, DeviceTimer.Life);
    this.faults = config.faults
      ? new FaultInjector(config.faults, this, this.observer, this.scheduler, this.random)
      : null;
    if (config.rtmpPublishConfig) this.standingPush.entries = config.rtmpPublishConfig;
  }

  // ---- read-only state ----

  get state(): DeviceState {
    return this._state;
  }

  get firmwareModel(): string {
    return this._firmware;
  }

  /** Logged in (online or upgrading). */
  get isOnline(): boolean {
    return this.peer !== null;
  }

  /** The logged-in connection to the platform, or null (for the device's own modules). */
  get connection(): RpcPeer | null {
    return this.peer;
  }

  /** The device clock, epoch ms (wall clock + SyncTime offset). */
  now(): number {
    return this.wallClock() + this.clockOffsetMs;
  }

  get clockOffset(): number {
    return this.clockOffsetMs;
  }

  /** Sets the device clock to `epochMs` (SyncTime). */
  setClock(epochMs: number): void {
    this.clockOffsetMs = epochMs - this.wallClock();
  }

  monotonicNow(): number {
    return this.scheduler.now();
  }

  channelOf(n: number): Channel | null {
    return Number.isInteger(n) && n >= 0 && n < this.channels.length ? this.channels[n]! : null;
  }

  ptzStatus(channel: number): PtzStatus | null {
    return this.channelOf(channel)?.ptz.status(this.monotonicNow()) ?? null;
  }

  get wifi(): Wifi {
    this._wifi ??= new Wifi(this.index);
    return this._wifi;
  }

  /** The standing push configuration (SetRTMPPublishConfig), kept for the device's life. */
  get rtmpPublishConfig(): RTMPPublishConfigEntry[] {
    return this.standingPush.entries;
  }

  set rtmpPublishConfig(config: RTMPPublishConfigEntry[]) {
    this.standingPush.entries = config;
    if (this.peer) this.standingPush.apply();
  }

  // ---- control ----

  /** Starts logging in (after a random start-up delay when `startDelayMaxMs` is set). */
  start(): void {
    if (this._state !== 'idle' && this._state !== 'stopped') return;
    // Stopped while rebooting: the channels come back with the device.
    for (const ch of this.channels) ch.setOnline(true);
    const spread = this.timings.startDelayMaxMs;
    if (spread > 0) {
      this.setState('waiting');
      this.scheduler.schedule(this.lifeTimer, this.random() * spread);
    } else {
      this.connect();
    }
  }

  /**
   * Closes cleanly (close code 1000) and stops every timer and media task — a stopped device
   * sends nothing more, standing pushes included; resolves once the socket is closed.
   */
  stop(): Promise<void> {
    this.cancelTimers();
    this.standing?.halt();
    for (const ch of this.channels) {
      ch.stopPublish();
      ch.stopRecord();
      clearAlarms(this, ch);
    }
    this.faults?.releaseSlow();
    this.pendingReboot = null;
    this.pendingFirmware = null;
    const socket = this.ws ?? this.peer?.socket ?? null;
    if (this.ws) {
      this.ws = null;
      this.attemptStartedAt = 0;
      socket!.terminate();
    } else if (this.peer) {
      this.intent = 'stop';
      if (this.traits.malformedClose && this.rawSocket) this.closeMalformed(this.peer, this.rawSocket);
      else this.peer.close('local', 'stopped');
    }
    this.setState('stopped');
    if (!socket || socket.readyState === socket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /**
   * The vendor's close: a close frame with an invalid code. The platform answers 1002 and drops
   * the connection; should it not, the socket is dropped after 2 s so `stop()` still resolves.
   */
  private closeMalformed(peer: RpcPeer, raw: Socket): void {
    writeMalformedClose(raw);
    setTimeout(() => peer.terminate('no answer to the close frame'), 2_000).unref();
  }

  /**
   * A connection storm: drops the socket without a close handshake (as a network loss would)
   * and reconnects after `delayMs`, or by the normal back-off when not given. False when offline.
   */
  disconnect(delayMs?: number): boolean {
    if (!this.peer) return false;
    this.intent = 'storm';
    this.stormDelayMs = delayMs ?? -1;
    this.peer.terminate('storm');
    return true;
  }

  /** Reboots the whole device: every channel offline, disconnect, log in again after `rebootMs`. */
  reboot(downtimeMs = this.timings.rebootMs): void {
    if (this._state === 'idle' || this._state === 'stopped' || this._state === 'rebooting') return;
    this.rebootDowntimeMs = downtimeMs;
    for (const ch of this.channels) {
      ch.setOnline(false);
      clearAlarms(this, ch);
      this.cancelChannelTimer(ch, ChannelSlot.Reboot);
    }
    if (this.peer) {
      this.intent = 'reboot';
      this.peer.close('local', 'reboot');
      return;
    }
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.terminate();
    }
    this.setState('rebooting');
    this.scheduler.schedule(this.lifeTimer, this.rebootDowntimeMs);
  }

  /** Keepalive device state 3 ("abnormal") while set. */
  setAbnormal(abnormal: boolean): void {
    this.health = abnormal ? 3 : 1;
  }

  /**
   * Raises an alarm: AlarmNotify start now, keepalive alarm bit while active, AlarmNotify end
   * after `durationMs` (+ the detection config's `delay`). Raising an active alarm extends it.
   * False when not raised: offline, no such channel, detection disabled or outside the arm window.
   */
  raiseAlarm(channel: number, type: AlarmType, durationMs: number): boolean {
    return raiseAlarm(this, channel, type, durationMs);
  }

  /**
   * Asks the platform for firmware (GetFirmware) and upgrades when it offers another version
   * over http(s): download (counted, discarded, capped in bytes and time), keepalive state 2 for
   * `upgradeMs`, reconnect with the new firmware_model. Called by the UpgradeFirmware event and
   * the vendor's daily check.
   */
  checkFirmware(): void {
    void this.runFirmwareCheck();
  }

  /** Arms the channel's timer of `slot` (a reboot's end, an alarm's end) to fire in `delayMs`. */
  armChannelTimer(ch: Channel, slot: number, delayMs: number): void {
    this.scheduler.schedule(channelTimer(this.scheduler, this, ch, slot), delayMs);
  }

  cancelChannelTimer(ch: Channel, slot: number): void {
    const t = ch.peekTimer(slot);
    if (t) this.scheduler.cancel(t);
  }

  // ---- connection life ----

  private connect(): void {
    this.setState('connecting');
    this.attemptStartedAt = performance.now();
    const c = this.config;
    let ws: WebSocket;
    try {
      ws = openSocket(
        loginUrl(c.url, c.loginCode, c.password, c.hardwareModel ?? DEFAULT_HARDWARE_MODEL, this._firmware),
        {
          localAddress: c.localAddress,
          tls: c.tls,
          maxMessageBytes: resolveLimits(c.limits).maxMessageBytes,
        },
      );
    } catch (error) {
      this.observer.loginFailed(this, classifyLoginError(error), 0);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.scheduler.schedule(this.lifeTimer, this.timings.handshakeTimeoutMs);
    // Closures per connection attempt (not per tick); removed once the socket is open.
    const onError = (error: Error) => this.onConnectError(ws, error);
    ws.on('error', onError);
    if (this.traits.malformedClose) ws.once('upgrade', (res) => (this.rawSocket = res.socket));
    ws.once('open', () => {
      ws.removeListener('error', onError);
      this.onOpen(ws);
    });
  }

  private onConnectError(ws: WebSocket, error: Error): void {
    if (ws !== this.ws) return;
    this.ws = null;
    this.observer.loginFailed(this, classifyLoginError(error), performance.now() - this.attemptStartedAt);
    this.scheduleReconnect();
  }

  private onHandshakeTimeout(): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.terminate();
    this.observer.loginFailed(
      this,
      { kind: 'failed', reason: 'timeout' },
      performance.now() - this.attemptStartedAt,
    );
    this.scheduleReconnect();
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) {
      ws.terminate();
      return;
    }
    this.ws = null;
    this.scheduler.cancel(this.lifeTimer);
    const now = performance.now();
    const peer = new RpcPeer(ws, this, {
      firstSeq: this.traits.firstSeq,
      rpcTimeoutMs: this.timings.rpcTimeoutMs,
      closeOnSeqMismatch: this.traits.closeOnSeqMismatch,
      resendOnSeqMismatch: !this.traits.closeOnSeqMismatch,
      ...(this.sweeper ? { sweeper: this.sweeper } : {}),
    });
    this.peer = peer;
    // ws refuses a message over the size limit before buffering it, then waits for a close
    // handshake the platform may never finish: drop the socket now, and say why.
    ws.on('error', (error) => {
      if (isMessageTooLarge(error) && this.peer === peer) {
        this.intent = 'too_large';
        peer.terminate(error.message);
      }
    });
    this.connectedAt = now;
    this.everLoggedIn = true;
    this.observer.loginSucceeded(this, now - this.attemptStartedAt);
    this.setState('online');
    if (this.traits.previewServer) this.callPreviewServer();
    // Standing pushes first, so the first keepalive already shows those channels live.
    this.standing?.apply();
    this.sendKeepalive();
    if (this.traits.loginKeepalivePair) {
      const t = this.timings;
      const gap = t.loginPairMinMs + this.random() * (t.loginPairMaxMs - t.loginPairMinMs);
      // A few ms: finer than the scheduler's wheel, and once per login.
      setTimeout(() => this.sendExtraKeepalive(peer), gap).unref();
    }
    if (this.traits.alarmHeartbeatKeepalive) {
      // The camera's own heartbeat runs in its own phase, not in step with the login.
      this.scheduler.schedule(
        this.auxTimer(DeviceTimer.AlarmHeartbeat),
        this.random() * this.timings.alarmHeartbeatMs,
      );
    }
    if (this.traits.dailyFirmwareCheck) {
      const t = this.auxTimer(DeviceTimer.Firmware);
      if (!t.pending) this.scheduler.schedule(t, this.untilDailyFirmwareCheck());
    }
  }

  private scheduleReconnect(): void {
    const afterLoss = this.everLoggedIn;
    if (quickRetriesExhausted(this.traits, this.timings, this.attempt, afterLoss)) {
      for (const ch of this.channels) ch.stopRecord();
    }
    const delay = reconnectDelay(this.traits, this.timings, this.random, this.attempt, afterLoss);
    this.attempt++;
    this.setState('backoff');
    this.scheduler.schedule(this.lifeTimer, delay);
  }

  private sendKeepalive(): void {
    const peer = this.peer;
    if (!peer) return;
    this.scheduler.schedule(this.kaTimer, this.timings.keepaliveMs);
    this.kaDueAt = this.scheduler.now() + this.timings.keepaliveMs;
    this.kaPostponed = false;
    this.faults?.beforeKeepalive(peer);
    this.sendKeepaliveNow(peer);
  }

  /** A Keepalive out of step (vendor: the second at login, the alarm-channel heartbeat's). */
  private sendExtraKeepalive(peer: RpcPeer): void {
    if (peer === this.peer) this.sendKeepaliveNow(peer);
  }

  private sendKeepaliveNow(peer: RpcPeer): void {
    this.kaParams.state = this._state === 'upgrading' ? 2 : this.health;
    peer.request('Keepalive', this.kaParams).catch(ignore);
  }

  /**
   * An AlarmNotify went out. The vendor's loop waits for an alarm *instead of* the Keepalive's
   * turn, so the next Keepalive comes 2–4 s later (once per period).
   */
  alarmNotified(): void {
    if (!this.traits.alarmDelaysKeepalive || this.kaPostponed || !this.kaTimer.pending) return;
    const t = this.timings;
    const extra =
      t.alarmKeepaliveDelayMinMs + this.random() * (t.alarmKeepaliveDelayMaxMs - t.alarmKeepaliveDelayMinMs);
    this.kaPostponed = true;
    this.kaDueAt += extra;
    this.scheduler.schedule(this.kaTimer, this.kaDueAt - this.scheduler.now());
  }

  private callPreviewServer(): void {
    this.peer?.request('preview_server').catch(ignore);
    this.scheduler.schedule(this.auxTimer(DeviceTimer.Preview), this.timings.previewServerMs);
  }

  /** Next 03:xx (+0–600 s) of the device clock, as the vendor SDK checks firmware daily. */
  private untilDailyFirmwareCheck(): number {
    const at = 3 * 3600 + Math.floor(this.random() * 3600) + Math.floor(this.random() * 600);
    const wait = (at - secondsOfDay(this.now()) + 86_400) % 86_400;
    return (wait === 0 ? 86_400 : wait) * 1000;
  }

  private async runFirmwareCheck(): Promise<void> {
    const peer = this.peer;
    if (!peer || this._state !== 'online') return;
    let offered: GetFirmwareAnswer;
    try {
      const answer = await peer.call('GetFirmware');
      if (checkAnswer(ivcMethodValidators, 'GetFirmware', answer) !== null) throw new Error('bad answer');
      offered = answer as GetFirmwareAnswer;
    } catch {
      if (peer === this.peer) this.observer.firmwareChecked?.(this, 'failed', 0);
      return;
    }
    if (peer !== this.peer || this._state !== 'online') return;
    if (!wantsUpgrade(this._firmware, offered)) {
      this.observer.firmwareChecked?.(this, 'skipped', 0);
      return;
    }
    this.setState('upgrading');
    let bytes: number;
    try {
      bytes = await downloadFirmware(offered.url, {
        timeoutMs: this.timings.firmwareTimeoutMs,
        maxBytes: resolveLimits(this.config.limits).firmwareMaxBytes,
      });
    } catch (error) {
      if (peer === this.peer && this.isUpgrading()) this.setState('online');
      const e = error instanceof FirmwareDownloadError ? error : null;
      this.observer.firmwareChecked?.(this, e?.outcome ?? 'failed', e?.bytes ?? 0);
      return;
    }
    // The connection may have been lost (or the device stopped) during the download.
    if (peer !== this.peer || !this.isUpgrading()) return;
    this.pendingFirmware = offered.firmware_model;
    this.observer.firmwareChecked?.(this, 'upgraded', bytes);
    this.scheduler.schedule(this.auxTimer(DeviceTimer.Upgrade), this.timings.upgradeMs);
  }

  /** A method, not a comparison, because the state changes across the awaits above. */
  private isUpgrading(): boolean {
    return this._state === 'upgrading';
  }

  private finishUpgrade(): void {
    if (!this.peer || this.pendingFirmware === null) return;
    this.intent = 'upgrade';
    this.peer.close('local', 'firmware upgrade');
  }

  // ---- channels ----

  /** RebootChannel: the reboot starts once the answer is out (see `onRequestServed`). */
  rebootChannelAfterAnswer(ch: Channel): void {
    this.pendingReboot = ch;
  }

  /**
   * Reboots one channel now (a reboot storm; RebootChannel goes through the answer first): it
   * reports state 0 for `downtimeMs`; on a camera the whole device restarts.
   */
  rebootChannelNow(channel: number, downtimeMs = this.timings.rebootMs): boolean {
    const ch = this.channelOf(channel);
    if (!ch || ch.state === 0 || !this.peer) return false;
    this.rebootChannel(ch, downtimeMs);
    return true;
  }

  private rebootChannel(ch: Channel, downtimeMs = this.timings.rebootMs): void {
    if (this.kind === 'camera') {
      this.reboot(downtimeMs);
      return;
    }
    ch.setOnline(false);
    clearAlarms(this, ch);
    this.armChannelTimer(ch, ChannelSlot.Reboot, downtimeMs);
  }

  channelMediaFailed(ch: Channel, kind: 'publish' | 'record', detail: string): void {
    this.observer.mediaFailed?.(this, ch.channel, kind, detail);
    if (kind === 'publish') this.standing?.pushFailed(ch);
  }

  /** Starts the channel's RTMP push through the media sink (platform order or standing push: streamId ""). */
  startPush(ch: Channel, quality: Quality, url: string, streamId: string): void {
    const task = this.media.startPublish(
      {
        loginCode: this.loginCode,
        channel: ch.channel,
        quality,
        url,
        streamId,
        bitrate: this.bitrates[quality],
      },
      ch,
    );
    ch.startPublish({ streamId, quality, url, task }, !this.traits.keepaliveOmitsStreamId);
  }

  private get standingPush(): StandingPush {
    this.standing ??= new StandingPush(this, this.scheduler, this.timings.pushRetryMs, null);
    return this.standing;
  }

  // ---- PeerHandler ----

  handleRequest(method: string, params: unknown): unknown {
    let result: unknown;
    let failed = false;
    try {
      result = serveIvtRequest(this, method, params);
    } catch (error) {
      result = this.errorAnswer(error);
      failed = true;
    }
    if (this.faults) return this.faults.answer(result, failed);
    if (failed) throw result;
    return result;
  }

  private errorAnswer(error: unknown): RpcError {
    const rpc = error instanceof RpcError ? error : new RpcError(1, 'internal error');
    // Unknown methods are refused by the vendor's dispatcher (101), not by a handler.
    return this.traits.genericErrors && rpc.code !== 101 ? GENERIC_ERROR : rpc;
  }

  handleEvent(event: string, params: unknown): void {
    handleIvtEvent(this, event, params);
  }

  onCallDone(method: string, ms: number, errCode: number | null): void {
    this.observer.rpcCompleted(this, 'to_ivc', method, ms, errCode);
  }

  onRequestServed(method: string, ms: number, errCode: number | null): void {
    this.observer.rpcCompleted(this, 'from_ivc', method, ms, errCode);
    const ch = this.pendingReboot;
    if (ch) {
      this.pendingReboot = null;
      this.rebootChannel(ch);
    }
  }

  onPeerClose(info: CloseInfo): void {
    const intent = this.intent;
    this.intent = null;
    this.peer = null;
    this.scheduler.cancel(this.kaTimer);
    this.cancelAux(DeviceTimer.Preview);
    this.cancelAux(DeviceTimer.Upgrade);
    this.cancelAux(DeviceTimer.AlarmHeartbeat);
    this.rawSocket = null;
    this.faults?.releaseSlow();
    this.pendingReboot = null;
    const firmware = this.pendingFirmware;
    this.pendingFirmware = null;
    this.observer.disconnected(
      this,
      intent === 'stop' ? 'local' : intent === 'too_large' ? 'message_too_large' : (intent ?? info.reason),
      info.detail,
    );
    switch (intent) {
      case 'stop':
        return;
      case 'reboot':
        this.setState('rebooting');
        this.scheduler.schedule(this.lifeTimer, this.rebootDowntimeMs);
        return;
      case 'upgrade':
        this._firmware = firmware ?? this._firmware;
        this.attempt = 0;
        this.setState('backoff');
        this.scheduler.schedule(this.lifeTimer, 0);
        return;
      default: {
        if (this.traits.reconnect === 'vendor') this.attempt = 0;
        else if (performance.now() - this.connectedAt >= this.timings.keepaliveMs) this.attempt = 0;
        if (this.traits.stopPublishOnLoss) for (const ch of this.channels) ch.stopPublish();
        if (intent === 'storm' && this.stormDelayMs >= 0) {
          this.setState('backoff');
          this.scheduler.schedule(this.lifeTimer, this.stormDelayMs);
        } else {
          this.scheduleReconnect();
        }
      }
    }
  }

  // ---- TimerTarget ----

  onTimer(kind: number): void {
    switch (kind) {
      case DeviceTimer.Keepalive:
        this.observer.keepaliveLate?.(this, this.scheduler.now() - this.kaDueAt);
        this.sendKeepalive();
        return;
      case DeviceTimer.Life:
        if (this._state === 'connecting') {
          this.onHandshakeTimeout();
          return;
        }
        if (this._state === 'rebooting') for (const ch of this.channels) ch.setOnline(true);
        if (this._state === 'waiting' || this._state === 'backoff' || this._state === 'rebooting')
          this.connect();
        return;
      case DeviceTimer.Preview:
        if (this.peer) this.callPreviewServer();
        return;
      case DeviceTimer.Firmware:
        this.checkFirmware();
        this.scheduler.schedule(this.auxTimer(DeviceTimer.Firmware), this.untilDailyFirmwareCheck());
        return;
      case DeviceTimer.Upgrade:
        this.finishUpgrade();
        return;
      case DeviceTimer.AlarmHeartbeat:
        if (!this.peer) return;
        this.sendExtraKeepalive(this.peer);
        this.scheduler.schedule(this.auxTimer(DeviceTimer.AlarmHeartbeat), this.timings.alarmHeartbeatMs);
        return;
    }
    const ch = this.channels[timerChannel(kind)];
    if (!ch) return;
    const slot = timerSlot(kind);
    if (slot === ChannelSlot.Reboot) {
      ch.setOnline(true);
      this.standing?.apply();
    } else {
      endAlarm(this, ch, slot);
    }
  }

  // ---- helpers ----

  private setState(to: DeviceState): void {
    const from = this._state;
    if (from === to) return;
    this._state = to;
    this.observer.stateChanged(this, from, to);
  }

  private auxTimer(kind: number): Timer {
    this.aux ??= new Array<Timer | null>(DEVICE_TIMER_COUNT).fill(null);
    let t = this.aux[kind];
    if (!t) {
      t = this.scheduler.timer(this, kind);
      this.aux[kind] = t;
    }
    return t;
  }

  private cancelAux(kind: number): void {
    const t = this.aux?.[kind];
    if (t) this.scheduler.cancel(t);
  }

  private cancelTimers(): void {
    this.scheduler.cancel(this.kaTimer);
    this.scheduler.cancel(this.lifeTimer);
    for (const t of this.aux ?? []) if (t) this.scheduler.cancel(t);
    for (const ch of this.channels) cancelChannelTimers(this.scheduler, ch);
  }
}
