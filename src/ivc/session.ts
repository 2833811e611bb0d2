import type { WebSocket } from 'ws';
import type { CloseInfo } from '../protocol/close-reason.js';
import type { AnswerPacket } from '../protocol/envelope.js';
import { ErrorCode, RpcError } from '../protocol/errors.js';
import type { AlarmNotifyParams, KeepaliveParams } from '../protocol/methods.js';
import { type PeerHandler, RpcPeer } from '../protocol/peer.js';
import {
  checkAnswer,
  checkParams,
  ivcMethodValidators,
  ivtMethodValidators,
} from '../protocol/validators.js';
import type { DeviceRecord } from './device-record.js';
import type { IvcPlatform } from './platform.js';

/** Methods whose empty answer the vendor firmware sends as `"resp": ""` (IVR-RPC.md "Observed on the wire"). */
const emptyStringAnswers: ReadonlySet<string> = new Set([
  'RTMPPublish',
  'RTMPStopPublish',
  'RebootChannel',
  'SetRTMPPublishConfig',
  'AlarmMoveDetectConfig',
  'AlarmRectIntrusionDetectConfig',
  'StartCloudRecord',
  'StopCloudRecord',
]);

/** A second Keepalive this soon after the first of a connection is the vendor's login pair (3–14 ms). */
const LOGIN_PAIR_MS = 1_000;
/** How much later than the late bound a Keepalive may come when an alarm took its turn. */
const ALARM_TURN_MS = 4_000;
/** An out-of-step Keepalive (the camera's alarm-channel heartbeat, every 120 s) at most this often. */
const EXTRA_KEEPALIVE_EVERY_MS = 60_000;

/** ws's errors for a frame that breaks RFC 6455 (invalid close code, opcode, UTF-8, …). */
function isProtocolError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('WS_ERR_');
}

/** The monitor tap, shared by every session: set as `onPacket` only while someone watches. */
function tapPacket(this: DeviceSession, direction: 'in' | 'out', text: string): void {
  this.platform.monitor.packet(this.record.loginCode, direction, text);
}

/**
 * The platform's side of one device connection: answers the IVC methods, checks every request
 * against the conformance rules and keeps the device record current. No timers of its own —
 * the platform's one sweep checks keepalive deadlines of all sessions.
 */
export class DeviceSession implements PeerHandler {
  readonly peer: RpcPeer;
  /** Epoch ms of the login. */
  readonly loginAt: number;
  private lastRequestSeq: number | null = null;
  /** Epoch ms of this connection's last Keepalive; 0 before the first. */
  lastKeepaliveAt = 0;
  /** A late first Keepalive was already counted by the sweep. */
  keepaliveFlagged = false;
  /** Size of the message being handled, in bytes. */
  private messageBytes = 0;
  /** Set when the platform itself ends the session for silence (reported instead of `local`). */
  private silenceDetail: string | null = null;
  /** Keepalives of this connection. */
  private keepaliveCount = 0;
  /** Epoch ms of the last AlarmNotify (an alarm may take a Keepalive's turn). */
  private lastAlarmAt = 0;
  /** An early interval waiting for the next one: an out-of-step Keepalive or a real fault. */
  private earlyInterval = 0;
  private lastExtraAt = 0;
  /** The frame that broke the protocol (ws answers it with 1002 and drops the socket). */
  private protocolError: string | null = null;
  onPacket?: (direction: 'in' | 'out', text: string) => void;

  constructor(
    readonly platform: IvcPlatform,
    readonly record: DeviceRecord,
    socket: WebSocket,
  ) {
    this.loginAt = Date.now();
    const o = platform.options;
    if (platform.monitor.isWatched(record.loginCode)) this.setTap(true);
    // Registered before the peer's own listener: the platform's handlers are synchronous, so the
    // request being handled is always the message just measured.
    socket.on('message', (data: Buffer) => {
      this.messageBytes = data.length;
    });
    // ws reports a frame that breaks RFC 6455 only as an error, then a close without a code (1006);
    // a message over maxPayload is a size limit, not a protocol fault.
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
        this.violation('limit_message', `a message over ${o.maxPayload} bytes`);
      else if (isProtocolError(error)) this.protocolError = error.message;
    });
    this.peer = new RpcPeer(socket, this, {
      firstSeq: o.firstSeq,
      rpcTimeoutMs: o.rpcTimeoutMs,
      closeOnSeqMismatch: o.closeOnSeqMismatch,
      sweeper: platform.sweeper,
    });
  }

  get hadKeepalive(): boolean {
    return this.lastKeepaliveAt > 0;
  }

  setTap(on: boolean): void {
    // Assigned rather than deleted, so every session keeps one object shape.
    this.onPacket = on ? tapPacket : undefined;
  }

  /** Calls a device method; the answer packet comes back as is, its `resp` checked against the schema. */
  async call(method: string, params?: unknown): Promise<AnswerPacket> {
    this.platform.stats.rpcCalls++;
    const answer = await this.peer.request(method, params);
    if ('resp' in answer) {
      if (answer.resp === '' && emptyStringAnswers.has(method)) {
        this.violation('answer_empty_string', `${method} answered "resp": ""`);
      } else if (answer.resp === null && method === 'GetPTZPresetTourList') {
        this.violation('answer_null_list', `${method} answered "resp": null`);
      } else {
        const why = checkAnswer(ivtMethodValidators, method, answer.resp);
        if (why) this.violation('answer_schema', `${method}: ${why}`);
      }
    }
    return answer;
  }

  handleRequest(method: string, params: unknown, seq: number): unknown {
    const now = Date.now();
    this.checkSeq(seq);
    if (!ivcMethodValidators.has(method)) {
      this.violation('unknown_method', method.slice(0, 80));
      throw new RpcError(ErrorCode.MethodNotSupported);
    }
    const maxKeepalive = this.platform.options.limits.maxKeepaliveBytes;
    if (method === 'Keepalive' && this.messageBytes > maxKeepalive) {
      // Still a sign of life, but neither checked nor kept: checking 125k channels costs more than it tells.
      this.violation('limit_keepalive', `Keepalive of ${this.messageBytes} bytes, limit ${maxKeepalive}`);
      this.keepaliveArrived(null, now);
      return {};
    }
    const why = checkParams(ivcMethodValidators, method, params);
    if (method === 'Keepalive') this.keepaliveArrived(why ? null : (params as KeepaliveParams), now);
    if (why) {
      this.violation('schema', `${method}: ${why}`);
      throw new RpcError(ErrorCode.Internal, `invalid params: ${why}`);
    }
    switch (method) {
      case 'Keepalive':
        return {};
      case 'preview_server':
        return { url: '' };
      case 'GetFirmware':
        return this.platform.firmwareFor(this.record.hardwareModel);
      default:
        return this.alarm(params as AlarmNotifyParams, now);
    }
  }

  handleEvent(event: string): void {
    this.violation('unknown_event', event.slice(0, 80));
  }

  onSeqMismatchIgnored(expected: number | null, got: number): void {
    this.violation('answer_order', `answer seq ${got}, expected ${expected ?? 'none'}`);
  }

  onPeerClose(info: CloseInfo): void {
    if (this.protocolError !== null && info.reason === 'network') {
      // Not a network loss: the device broke the WebSocket protocol (the vendor's close frame).
      this.violation('close_frame', this.protocolError);
      this.platform.detach(this, { reason: 'protocol_error', code: 1002, detail: this.protocolError });
      return;
    }
    // The peer has already closed the socket: count the fault that made it do so.
    if (info.reason === 'malformed') this.violation('malformed', info.detail);
    else if (info.reason === 'seq_mismatch') this.violation('answer_order', info.detail);
    else if (info.reason === 'timeout') {
      this.platform.stats.rpcTimeouts++;
      this.violation('answer_timeout', info.detail);
    }
    if (this.silenceDetail !== null && info.reason === 'local') {
      this.platform.detach(this, { ...info, reason: 'keepalive_timeout', detail: this.silenceDetail });
    } else {
      this.platform.detach(this, info);
    }
  }

  /** The device missed its Keepalives: close it (the device sees why in the close frame). */
  endForSilence(detail: string): void {
    this.silenceDetail = detail;
    this.peer.close('local', detail);
  }

  violation(rule: Parameters<IvcPlatform['violation']>[1], detail: string): void {
    this.platform.violation(this.record, rule, detail);
  }

  private checkSeq(seq: number): void {
    const last = this.lastRequestSeq;
    this.lastRequestSeq = seq;
    if (last === null) {
      if (seq !== 0 && seq !== 1) this.violation('seq_start', `first request seq ${seq}, expected 0 or 1`);
    } else if (seq !== last + 1) {
      this.violation('seq_gap', `request seq ${seq} after ${last}`);
    }
  }

  private keepaliveArrived(params: KeepaliveParams | null, now: number): void {
    const o = this.platform.options;
    const record = this.record;
    const first = this.lastKeepaliveAt === 0;
    if (first) {
      const after = now - this.loginAt;
      // The sweep may already have counted it while waiting.
      if (after > o.firstKeepaliveMs && !this.keepaliveFlagged) {
        this.violation('keepalive_first_late', `first Keepalive ${after} ms after login`);
      }
    } else {
      this.judgeInterval(now - this.lastKeepaliveAt, now);
    }
    this.keepaliveCount++;
    this.lastKeepaliveAt = now;
    record.keepalives++;
    this.platform.stats.keepalives++;
    if (params) this.applyKeepalive(params, now);
    else record.lastKeepaliveAt = now;
    if (first) this.platform.deviceReady(this);
    // Only a watched device (tap on) pays for a live status on every keepalive.
    else if (this.onPacket) this.platform.monitor.status(record);
  }

  /**
   * One Keepalive interval against the expected period. The vendor firmware's known rhythm
   * breaks (login pair, alarm taking the turn, out-of-step extra) are told apart from real
   * ones; only regular periods go into the mean.
   */
  private judgeInterval(interval: number, now: number): void {
    const o = this.platform.options;
    const expected = `expected ${o.keepaliveMs} ms`;
    // (Half the shortest allowed interval at most, so a short test period still tells them apart.)
    const pairBound = Math.min(LOGIN_PAIR_MS, (o.keepaliveMs - o.keepaliveToleranceMs) / 2);
    if (this.keepaliveCount === 1 && interval < pairBound) {
      this.violation('keepalive_login_pair', `second Keepalive ${interval} ms after the first`);
      return;
    }
    const lowest = o.keepaliveMs - o.keepaliveToleranceMs;
    const highest = o.keepaliveMs + o.keepaliveToleranceMs;
    const early = this.earlyInterval;
    if (early > 0) {
      this.earlyInterval = 0;
      const period = early + interval;
      if (period >= lowest && period <= highest && now - this.lastExtraAt >= EXTRA_KEEPALIVE_EVERY_MS) {
        this.lastExtraAt = now;
        this.violation('keepalive_extra', `intervals ${early} + ${interval} ms, ${expected}`);
        this.addInterval(period);
        return;
      }
      this.violation('keepalive_early', `interval ${early} ms, ${expected}`);
      this.addInterval(early);
    }
    if (interval < lowest) {
      // Judged with the next interval: an extra Keepalive leaves the rhythm as it was.
      this.earlyInterval = interval;
      return;
    }
    this.addInterval(interval);
    if (interval <= highest) return;
    if (interval <= highest + ALARM_TURN_MS && this.lastAlarmAt > now - interval) {
      this.violation(
        'keepalive_late_after_alarm',
        `interval ${interval} ms after an AlarmNotify, ${expected}`,
      );
    } else {
      this.violation('keepalive_late', `interval ${interval} ms, ${expected}`);
    }
  }

  private addInterval(interval: number): void {
    this.record.keepaliveIntervalSum += interval;
    this.record.keepaliveIntervalCount++;
  }

  /** Keeps what the limits allow of a Keepalive's channels and counts what was cut. */
  private applyKeepalive(params: KeepaliveParams, now: number): void {
    const limits = this.platform.options.limits;
    const record = this.record;
    const cut = record.applyKeepalive(params, now, limits.maxChannels, limits.maxStringLength);
    if (record.publishOrders !== null || record.stoppedRecordings !== null) this.checkChannels(params);
    if (cut.channelsCut) {
      this.violation(
        'limit_channels',
        `Keepalive lists ${params.channels.length} channels, the first ${limits.maxChannels} are kept`,
      );
    }
    if (cut.stringsCut) {
      this.violation(
        'limit_string',
        `a channel's stream_id or record_session over ${limits.maxStringLength} characters`,
      );
    }
  }

  /** Live channels without the stream id they were ordered with; recordings left after stop. */
  private checkChannels(params: KeepaliveParams): void {
    const record = this.record;
    for (const c of params.channels) {
      const ordered = record.publishOrders?.get(c.channel);
      if (ordered !== undefined && c.state === 2 && c.stream_id === undefined) {
        // Once per order: every Keepalive would repeat it.
        record.publishOrders?.delete(c.channel);
        this.violation(
          'keepalive_no_stream_id',
          `channel ${c.channel} live without stream_id ${ordered.slice(0, 100)}`,
        );
      }
      if (c.record_session && record.stoppedRecordings?.delete(c.record_session)) {
        this.violation(
          'record_session_after_stop',
          `channel ${c.channel} still lists record_session ${c.record_session.slice(0, 100)}`,
        );
      }
    }
    // Checked on the Keepalive after the answer only: the sets stay bounded.
    record.publishOrders = null;
    record.stoppedRecordings = null;
  }

  private alarm(params: AlarmNotifyParams, now: number): { pic_upload_url: string } {
    const record = this.record;
    this.lastAlarmAt = now;
    record.alarms++;
    this.platform.stats.alarms++;
    record.lastAlarm = {
      channel: params.channel,
      type: params.type,
      state: params.state,
      desc: params.desc.slice(0, this.platform.options.limits.maxStringLength),
      at: now,
    };
    // Contract item 6: a picture follows a start; an end gets no upload address.
    return {
      pic_upload_url:
        params.state === 'start' ? this.platform.alarmUploadUrl(record.loginCode, params.channel) : '',
    };
  }
}
