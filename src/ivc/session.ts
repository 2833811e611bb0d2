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
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
        this.violation('limit_message', `a message over ${o.maxPayload} bytes`);
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
      const why = checkAnswer(ivtMethodValidators, method, answer.resp);
      if (why) this.violation('answer_schema', `${method}: ${why}`);
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
      const interval = now - this.lastKeepaliveAt;
      record.keepaliveIntervalSum += interval;
      record.keepaliveIntervalCount++;
      if (interval > o.keepaliveMs + o.keepaliveToleranceMs) {
        this.violation('keepalive_late', `interval ${interval} ms, expected ${o.keepaliveMs} ms`);
      } else if (interval < o.keepaliveMs - o.keepaliveToleranceMs) {
        this.violation('keepalive_early', `interval ${interval} ms, expected ${o.keepaliveMs} ms`);
      }
    }
    this.lastKeepaliveAt = now;
    record.keepalives++;
    this.platform.stats.keepalives++;
    if (params) this.applyKeepalive(params, now);
    else record.lastKeepaliveAt = now;
    if (first) this.platform.deviceReady(this);
    // Only a watched device (tap on) pays for a live status on every keepalive.
    else if (this.onPacket) this.platform.monitor.status(record);
  }

  /** Keeps what the limits allow of a Keepalive's channels and counts what was cut. */
  private applyKeepalive(params: KeepaliveParams, now: number): void {
    const limits = this.platform.options.limits;
    const record = this.record;
    const cut = record.applyKeepalive(params, now, limits.maxChannels, limits.maxStringLength);
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

  private alarm(params: AlarmNotifyParams, now: number): { pic_upload_url: string } {
    const record = this.record;
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
