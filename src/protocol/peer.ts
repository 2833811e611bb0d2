import type { RawData, WebSocket } from 'ws';
import { type CloseInfo, type CloseReason, closeCodes } from './close-reason.js';
import { type DeadlineSweeper, sharedSweeper } from './deadline-sweeper.js';
import type { AnswerPacket, RequestPacket } from './envelope.js';
import { parsePacket } from './envelope.js';
import { RpcError, RpcErrorAnswer } from './errors.js';

/** Returned by a request handler to send no answer at all (a misbehaving-device fault). */
export const NO_ANSWER: unique symbol = Symbol('no answer');

/**
 * What the owner of a peer (a device, or the platform's session for one device) implements.
 * An object with methods rather than closures, so a fleet of peers shares one set of functions.
 */
export interface PeerHandler {
  /** Answer one request; throw `RpcError` for an `err` answer. May be async: answers still go out in arrival order. */
  handleRequest(method: string, params: unknown, seq: number): unknown | Promise<unknown>;
  handleEvent(event: string, params: unknown): void;
  /** The connection ended; called exactly once. */
  onPeerClose(info: CloseInfo): void;
  /** A call of ours was answered (or failed with an `err` answer): round trip in ms. */
  onCallDone?(method: string, ms: number, errCode: number | null): void;
  /** We answered a request of the peer: time from its arrival to our answer, in ms. */
  onRequestServed?(method: string, ms: number, errCode: number | null): void;
  /** An answer with an unexpected seq was ignored (only when `closeOnSeqMismatch` is off); the awaited request was sent again when `resendOnSeqMismatch`. */
  onSeqMismatchIgnored?(expected: number | null, got: number): void;
  /** Every packet text in both directions; only set it when someone watches (costs a call per packet). */
  onPacket?(direction: 'in' | 'out', text: string): void;
}

export interface PeerOptions {
  /** First seq of our requests: 1 by this project's contract, 0 for the vendor SDK. */
  firstSeq?: number;
  /** No answer within this time closes the connection ("timeout" fault). */
  rpcTimeoutMs?: number;
  /** The document closes on an unexpected answer seq; the vendor SDK ignores it. */
  closeOnSeqMismatch?: boolean;
  /** With `closeOnSeqMismatch` off: send the awaited request again (the vendor SDK does). */
  resendOnSeqMismatch?: boolean;
  sweeper?: DeadlineSweeper;
}

/** A call of ours that waits for its answer. */
interface PendingCall {
  seq: number;
  method: string;
  /** The request as sent, kept while it waits (for a resend). */
  text: string;
  sentAt: number;
  resolve: (answer: AnswerPacket) => void;
  reject: (error: Error) => void;
}

/** Our call could not complete because the connection ended. */
export class PeerClosedError extends Error {
  constructor(readonly info: CloseInfo) {
    super(`connection closed (${info.reason}${info.detail ? `: ${info.detail}` : ''})`);
    this.name = 'PeerClosedError';
  }
}

/**
 * One side of the IVR RPC protocol over one WebSocket: its own seq counter for requests it
 * sends, answers expected in order, the peer's requests handled strictly one after another in
 * arrival order, events both ways, and the three fault rules (unexpected seq, timeout,
 * malformed packet) each closing the socket with a reason the farm counts.
 */
export class RpcPeer {
  private nextSeq: number;
  /** Calls in send order; answered ones before `pendingHead` are cleared to undefined. */
  private readonly pending: Array<PendingCall | undefined> = [];
  private pendingHead = 0;
  private readonly inbox: RequestPacket[] = [];
  private inboxHead = 0;
  private inboxArrivals: number[] = [];
  private serving = false;
  private closed = false;
  private readonly rpcTimeoutMs: number;
  private readonly closeOnSeqMismatch: boolean;
  private readonly resendOnSeqMismatch: boolean;
  private readonly sweeper: DeadlineSweeper;

  constructor(
    readonly socket: WebSocket,
    private readonly handler: PeerHandler,
    options: PeerOptions = {},
  ) {
    this.nextSeq = options.firstSeq ?? 1;
    this.rpcTimeoutMs = options.rpcTimeoutMs ?? 20_000;
    this.closeOnSeqMismatch = options.closeOnSeqMismatch ?? true;
    this.resendOnSeqMismatch = options.resendOnSeqMismatch ?? false;
    this.sweeper = options.sweeper ?? sharedSweeper;
    socket.on('message', (data) => this.onMessage(data));
    socket.on('close', (code, reason) => this.onSocketClose(code, reason.toString()));
    // 'error' is always followed by 'close'; listening keeps it from being thrown.
    socket.on('error', () => {});
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Number of our requests still waiting for an answer. */
  get outstanding(): number {
    return this.pending.length - this.pendingHead;
  }

  /** Sends a request and resolves with the answer packet, `resp` or `err` alike. */
  request(method: string, params?: unknown): Promise<AnswerPacket> {
    if (this.closed) {
      return Promise.reject(new PeerClosedError({ reason: 'local', code: 1000, detail: 'already closed' }));
    }
    const seq = this.nextSeq++;
    const text = JSON.stringify(params === undefined ? { req: method, seq } : { req: method, params, seq });
    return new Promise<AnswerPacket>((resolve, reject) => {
      if (this.outstanding === 0) this.sweeper.add(this);
      this.pending.push({ seq, method, text, sentAt: performance.now(), resolve, reject });
      this.sendText(text);
    });
  }

  /** Sends a request and resolves with `resp`, or rejects with `RpcErrorAnswer` on an `err` answer. */
  async call(method: string, params?: unknown): Promise<unknown> {
    const answer = await this.request(method, params);
    if ('err' in answer && answer.err) throw new RpcErrorAnswer(method, answer.err.code, answer.err.msg);
    return (answer as { resp: unknown }).resp;
  }

  sendEvent(event: string, params?: unknown): void {
    if (this.closed) return;
    this.sendText(JSON.stringify(params === undefined ? { event } : { event, params }));
  }

  /** Sends text as is: used to inject malformed packets from a misbehaving device or a person's debug page. */
  sendRaw(text: string): void {
    if (!this.closed) this.sendText(text);
  }

  /** Closes the connection. `reason` is reported to the handler; fault reasons go to the peer as close codes. */
  close(reason: CloseReason = 'local', detail = ''): void {
    if (this.closed) return;
    const code = reason in closeCodes ? closeCodes[reason as keyof typeof closeCodes] : 1000;
    // A close reason must fit in 123 bytes.
    this.socket.close(code, Buffer.from(detail).subarray(0, 120).toString());
    this.finish({ reason, code, detail });
  }

  /** Drops the socket without a close handshake (a simulated network loss). */
  terminate(detail = 'terminated'): void {
    if (this.closed) return;
    this.socket.terminate();
    this.finish({ reason: 'local', code: 1006, detail });
  }

  checkDeadline(nowMs: number): void {
    const oldest = this.pending[this.pendingHead];
    if (oldest && nowMs - oldest.sentAt >= this.rpcTimeoutMs) {
      this.close(
        'timeout',
        `no answer to ${oldest.method} (seq ${oldest.seq}) within ${this.rpcTimeoutMs} ms`,
      );
    }
  }

  private sendText(text: string): void {
    this.handler.onPacket?.('out', text);
    this.socket.send(text);
  }

  private onMessage(data: RawData): void {
    if (this.closed) return;
    // ws hands a Buffer per message (text or binary alike): decode it in place, never copy it.
    const text = Buffer.isBuffer(data)
      ? data.toString()
      : Array.isArray(data)
        ? Buffer.concat(data).toString()
        : Buffer.from(data).toString();
    this.handler.onPacket?.('in', text);
    const parsed = parsePacket(text);
    switch (parsed.kind) {
      case 'malformed':
        this.close('malformed', parsed.detail);
        return;
      case 'answer':
        this.onAnswer(parsed.packet);
        return;
      case 'request':
        this.inbox.push(parsed.packet);
        this.inboxArrivals.push(performance.now());
        if (!this.serving) void this.serveInbox();
        return;
      case 'event':
        this.handler.handleEvent(parsed.packet.event, parsed.packet.params);
        return;
    }
  }

  private onAnswer(answer: AnswerPacket): void {
    const expected = this.pending[this.pendingHead];
    if (!expected || expected.seq !== answer.seq) {
      if (this.closeOnSeqMismatch) {
        this.close('seq_mismatch', `answer seq ${answer.seq}, expected ${expected ? expected.seq : 'none'}`);
      } else {
        this.handler.onSeqMismatchIgnored?.(expected ? expected.seq : null, answer.seq);
        if (expected && this.resendOnSeqMismatch) this.sendText(expected.text);
      }
      return;
    }
    this.pending[this.pendingHead++] = undefined;
    this.compactPending();
    const ms = performance.now() - expected.sentAt;
    const errCode = 'err' in answer && answer.err ? answer.err.code : null;
    this.handler.onCallDone?.(expected.method, ms, errCode);
    expected.resolve(answer);
  }

  private compactPending(): void {
    if (this.pendingHead === this.pending.length) {
      this.pending.length = 0;
      this.pendingHead = 0;
      this.sweeper.delete(this);
    } else if (this.pendingHead > 64) {
      this.pending.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /** Handles queued requests one at a time, so answers leave in arrival order. */
  private async serveInbox(): Promise<void> {
    this.serving = true;
    while (this.inboxHead < this.inbox.length && !this.closed) {
      const packet = this.inbox[this.inboxHead]!;
      const arrivedAt = this.inboxArrivals[this.inboxHead]!;
      this.inboxHead++;
      let answer: string | null;
      let errCode: number | null = null;
      try {
        let result = this.handler.handleRequest(packet.req, packet.params, packet.seq);
        if (result instanceof Promise) result = await result;
        answer =
          result === NO_ANSWER
            ? null
            : JSON.stringify({ seq: packet.seq, resp: result === undefined ? {} : result });
      } catch (error) {
        const rpc = error instanceof RpcError ? error : new RpcError(1, 'internal error');
        errCode = rpc.code;
        answer = JSON.stringify({ seq: packet.seq, err: { code: rpc.code, msg: rpc.message } });
      }
      if (this.closed) break;
      if (answer !== null) this.sendText(answer);
      this.handler.onRequestServed?.(packet.req, performance.now() - arrivedAt, errCode);
    }
    if (this.inboxHead === this.inbox.length) {
      this.inbox.length = 0;
      this.inboxArrivals.length = 0;
      this.inboxHead = 0;
    }
    this.serving = false;
  }

  private onSocketClose(code: number, reason: string): void {
    if (this.closed) return;
    // 1006: the socket ended without a close frame — a network loss, not the peer's decision.
    this.finish(
      code === 1006
        ? { reason: 'network', code, detail: 'connection lost' }
        : { reason: 'closed_by_peer', code, detail: reason },
    );
  }

  private finish(info: CloseInfo): void {
    this.closed = true;
    this.sweeper.delete(this);
    const failed = this.pending.slice(this.pendingHead);
    this.pending.length = 0;
    this.pendingHead = 0;
    this.inbox.length = 0;
    this.inboxArrivals = [];
    this.inboxHead = 0;
    const error = new PeerClosedError(info);
    for (const call of failed) call?.reject(error);
    this.handler.onPeerClose(info);
  }
}
