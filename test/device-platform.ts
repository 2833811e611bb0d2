// A tiny in-test IVC for the device tests: a real HTTP server with a WebSocket endpoint on
// loopback, credentials checked at upgrade (401/403 like the reference platform), and a real
// RpcPeer per connection that records every packet and answers the IVC methods.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { DeviceIdentity, DeviceObserver, DeviceState, LoginFailure } from '../src/device/observer.js';
import type { CloseInfo } from '../src/protocol/close-reason.js';
import type { AnswerPacket } from '../src/protocol/envelope.js';
import { type PeerHandler, RpcPeer } from '../src/protocol/peer.js';

export interface ReceivedRequest {
  method: string;
  params: unknown;
  seq: number;
  at: number;
}

export type Answerer = (method: string, params: unknown, session: Session) => unknown;

export const defaultAnswer: Answerer = (method) => {
  switch (method) {
    case 'preview_server':
      return { url: '' };
    case 'GetFirmware':
      return { firmware_model: 'sim-1.0.0', url: '' };
    case 'AlarmNotify':
      return { pic_upload_url: '' };
    default:
      return {};
  }
};

/** The platform's side of one device connection. */
export class Session implements PeerHandler {
  readonly peer: RpcPeer;
  readonly requests: ReceivedRequest[] = [];
  /** Texts received from the device, in order. */
  readonly texts: string[] = [];
  readonly closed: Promise<CloseInfo>;
  readonly query: URLSearchParams;
  private resolveClosed!: (info: CloseInfo) => void;
  private waiters: Array<() => void> = [];

  constructor(
    readonly socket: WebSocket,
    readonly request: IncomingMessage,
    private readonly platform: TestPlatform,
  ) {
    this.query = new URL(request.url ?? '/', 'http://x').searchParams;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.peer = new RpcPeer(socket, this);
  }

  get loginCode(): string {
    return this.query.get('login_code') ?? '';
  }

  handleRequest(method: string, params: unknown, seq: number): unknown {
    this.requests.push({ method, params, seq, at: performance.now() });
    this.wake();
    return this.platform.answer(method, params, this);
  }

  handleEvent(): void {}

  onPeerClose(info: CloseInfo): void {
    this.resolveClosed(info);
    this.wake();
  }

  onPacket(direction: 'in' | 'out', text: string): void {
    if (direction === 'in') this.texts.push(text);
  }

  /** Resolves with the n-th (1-based) request of `method`. */
  async waitFor(method: string, n = 1, timeoutMs = 5000): Promise<ReceivedRequest> {
    await this.until(() => this.requests.filter((r) => r.method === method).length >= n, timeoutMs, method);
    return this.requests.filter((r) => r.method === method)[n - 1]!;
  }

  call(method: string, params?: unknown): Promise<AnswerPacket> {
    return this.peer.request(method, params);
  }

  event(name: string, params?: unknown): void {
    this.peer.sendEvent(name, params);
  }

  private until(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (ok()) return resolve();
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (ok()) {
          clearTimeout(timer);
          resolve();
        } else {
          this.waiters.push(check);
        }
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export class TestPlatform {
  readonly server: Server;
  readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  readonly sessions: Session[] = [];
  /** Every upgrade request as received (URL and headers), accepted or not. */
  readonly upgrades: IncomingMessage[] = [];
  /** Refuse logins with this status (401/403), or accept when null. */
  refuseWith: number | null = null;
  /** When set, only this password is accepted (401 otherwise). */
  password: string | null = null;
  answer: Answerer = defaultAnswer;
  url = '';
  private waiters: Array<{ code: string | undefined; take: (s: Session) => void }> = [];

  /** With `tls` (PEM key and certificate) the endpoint is wss://. */
  constructor(private readonly tls?: { key: string; cert: string }) {
    const notFound = (_req: IncomingMessage, res: import('node:http').ServerResponse) =>
      res.writeHead(404).end();
    this.server = tls ? createTlsServer(tls, notFound) : createServer(notFound);
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `${this.tls ? 'wss' : 'ws'}://127.0.0.1:${(this.server.address() as AddressInfo).port}/ivc`;
    return this;
  }

  /** The next session to log in (of device `loginCode`, when given). */
  nextSession(loginCode?: string, timeoutMs = 5000): Promise<Session> {
    return new Promise((resolve, reject) => {
      const waiter = {
        code: loginCode,
        take: (s: Session) => {
          clearTimeout(timer);
          resolve(s);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no login of ${loginCode ?? 'any device'}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.upgrades.push(req);
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const status =
      this.refuseWith ?? (this.password !== null && query.get('login_passwd') !== this.password ? 401 : null);
    if (status !== null) {
      socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new Session(ws, req, this);
      this.sessions.push(session);
      const i = this.waiters.findIndex((w) => w.code === undefined || w.code === session.loginCode);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.take(session);
    });
  }
}

/** An observer that records what a test wants to look at. */
export class RecordingObserver implements DeviceObserver {
  states: Array<[DeviceState, DeviceState]> = [];
  /** When each login attempt began (state → connecting): timer times, without the login round trip. */
  attempts: number[] = [];
  logins: number[] = [];
  loginFailures: Array<{ failure: LoginFailure; at: number }> = [];
  rpcs: Array<{ direction: string; method: string; errCode: number | null }> = [];
  disconnects: Array<{ reason: string; detail: string; at: number; index: number }> = [];
  events: Array<[string, boolean]> = [];
  rejected: Array<[string, string]> = [];
  alarms: Array<[number, number]> = [];
  faults: string[] = [];
  firmware: Array<[string, number]> = [];
  media: Array<[number, string, string]> = [];

  stateChanged(_d: DeviceIdentity, from: DeviceState, to: DeviceState): void {
    this.states.push([from, to]);
    if (to === 'connecting') this.attempts.push(performance.now());
  }
  loginSucceeded(): void {
    this.logins.push(performance.now());
  }
  loginFailed(_d: DeviceIdentity, failure: LoginFailure): void {
    this.loginFailures.push({ failure, at: performance.now() });
  }
  rpcCompleted(
    _d: DeviceIdentity,
    direction: 'to_ivc' | 'from_ivc',
    method: string,
    _ms: number,
    errCode: number | null,
  ): void {
    this.rpcs.push({ direction, method, errCode });
  }
  disconnected(d: DeviceIdentity, reason: string, detail: string): void {
    this.disconnects.push({ reason, detail, at: performance.now(), index: d.index });
  }
  eventReceived(_d: DeviceIdentity, event: string, known: boolean): void {
    this.events.push([event, known]);
  }
  eventRejected(_d: DeviceIdentity, event: string, reason: string): void {
    this.rejected.push([event, reason]);
  }
  alarmRaised(_d: DeviceIdentity, channel: number, type: number): void {
    this.alarms.push([channel, type]);
  }
  faultInjected(_d: DeviceIdentity, fault: string): void {
    this.faults.push(fault);
  }
  firmwareChecked(_d: DeviceIdentity, outcome: string, bytes: number): void {
    this.firmware.push([outcome, bytes]);
  }
  mediaFailed(_d: DeviceIdentity, channel: number, kind: string, detail: string): void {
    this.media.push([channel, kind, detail]);
  }
}
