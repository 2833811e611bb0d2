// Test rig for the cloud recorder: the real reference IVC, a bare protocol device that starts a
// real CloudRecorder on StartCloudRecord, and a "tap" HTTP server in between that forwards every
// callback and upload to the IVC while keeping what passed (forms, bodies, timing).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { WebSocket } from 'ws';
import type { Scheduler } from '../src/core/scheduler.js';
import { type IvcOptions, type RecordOrder, type RunningIvc, startIvc } from '../src/ivc/index.js';
import { loadCatalogue } from '../src/media/catalogue.js';
import { CloudRecorder, type CloudRecorderOptions } from '../src/media/recorder/cloud-recorder.js';
import type { RecorderObserver } from '../src/media/recorder/observer.js';
import type { CloseInfo } from '../src/protocol/close-reason.js';
import type { StartCloudRecordParams } from '../src/protocol/methods.js';
import { type PeerHandler, RpcPeer } from '../src/protocol/peer.js';

export const ldTsPath = loadCatalogue().rendition('ld').tsPath;

/** One request as it passed the tap. */
export interface Tapped {
  method: string;
  path: string;
  body: Buffer;
  /** Parsed form for callbacks. */
  form: URLSearchParams | null;
  contentType: string;
  contentLength: string;
  /** The device's source port: tells which connection carried the request. */
  remotePort: number;
  remoteAddress: string;
  /** Status the tap answered (the IVC's, or 0 when the tap cut the connection). */
  status: number;
  /** The IVC's answer body as forwarded (after the uri rewrite). */
  answer: string;
  /** ms (performance.now) of the first body byte and of the end of the body. */
  firstByteAt: number;
  endAt: number;
}

/** Forwards to the IVC; create answers get their upload uri rewritten to pass the tap too. */
export class Tap {
  readonly seen: Tapped[] = [];
  /** Cut the connection of this many next PUTs before answering (a transport error). */
  resetPuts = 0;
  private readonly server: Server;
  base = '';

  constructor(private readonly ivc: RunningIvc) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Callbacks with this op, in arrival order. */
  ops(op: string): URLSearchParams[] {
    return this.seen.flatMap((t) => (t.form?.get('op') === op ? [t.form] : []));
  }

  puts(): Tapped[] {
    return this.seen.filter((t) => t.method === 'PUT');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let firstByteAt = 0;
    for await (const chunk of req) {
      if (firstByteAt === 0) firstByteAt = performance.now();
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    const t: Tapped = {
      method: req.method ?? '',
      path: req.url ?? '',
      body,
      form: req.method === 'POST' ? new URLSearchParams(body.toString()) : null,
      contentType: req.headers['content-type'] ?? '',
      contentLength: req.headers['content-length'] ?? '',
      remotePort: req.socket.remotePort ?? 0,
      remoteAddress: req.socket.remoteAddress ?? '',
      status: 0,
      answer: '',
      firstByteAt,
      endAt: performance.now(),
    };
    this.seen.push(t);
    if (t.method === 'PUT' && this.resetPuts > 0) {
      this.resetPuts--;
      req.socket.destroy();
      return;
    }
    const up = await request(`${this.ivc.httpUrl}${t.path}`, {
      method: t.method === 'PUT' ? 'PUT' : 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body,
    });
    t.status = up.statusCode;
    t.answer = (await up.body.text()).replaceAll(this.ivc.httpUrl, this.base);
    res.writeHead(t.status, { 'content-type': 'application/json' });
    res.end(t.answer);
  }
}

export type ObserverCall = { kind: keyof RecorderObserver; args: unknown[] };

/** Records every observer call in order. */
export function logObserver(log: ObserverCall[]): RecorderObserver {
  const entry =
    (kind: keyof RecorderObserver) =>
    (...args: unknown[]) => {
      log.push({ kind, args });
    };
  return {
    segmentCreated: entry('segmentCreated'),
    createDeferred: entry('createDeferred'),
    createFailed: entry('createFailed'),
    segmentUploaded: entry('segmentUploaded'),
    uploadFailed: entry('uploadFailed'),
    segmentDropped: entry('segmentDropped'),
    saved: entry('saved'),
  };
}

export function count(log: ObserverCall[], kind: keyof RecorderObserver): number {
  return log.filter((c) => c.kind === kind).length;
}

/**
 * A device as the lead wires it: StartCloudRecord → new CloudRecorder(job), StopCloudRecord →
 * stop(); a recorder failure is remembered as mediaFailed would be.
 */
class RecordingDevice implements PeerHandler {
  recorder: CloudRecorder | null = null;
  failures: string[] = [];
  constructor(private readonly make: (params: StartCloudRecordParams) => CloudRecorderOptions) {}
  handleRequest(method: string, params: unknown): unknown {
    const p = params as StartCloudRecordParams;
    if (method === 'StartCloudRecord') {
      this.recorder = new CloudRecorder({
        ...this.make(p),
        onFailure: (detail) => this.failures.push(detail),
      });
    } else if (method === 'StopCloudRecord') {
      this.recorder?.stop();
    }
    return {};
  }
  handleEvent(): void {}
  onPeerClose(_info: CloseInfo): void {}
}

export interface Rig {
  ivc: RunningIvc;
  loginCode: string;
  tap: Tap;
  device: RecordingDevice;
  recorder: CloudRecorder;
  sessionId: string;
  log: ObserverCall[];
  /** StopCloudRecord through the platform, then waits for the recorder to close. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

let devices = 0;

/** Starts an IVC, a tap, logs a device in and orders it to record with `order` (through the tap). */
export async function startRig(
  scheduler: Scheduler,
  ivcOptions: IvcOptions,
  order: Partial<RecordOrder>,
  extra: Partial<CloudRecorderOptions> = {},
): Promise<Rig> {
  const ivc = await startIvc({ port: 0, ...ivcOptions });
  const tap = new Tap(ivc);
  await tap.listen();
  const loginCode = `rec-${++devices}`;
  const q = new URLSearchParams({
    login_code: loginCode,
    login_passwd: 'x',
    hardware_model: 'h',
    firmware_model: 'f',
  });
  const ws = new WebSocket(`${ivc.url}?${q}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const log: ObserverCall[] = [];
  const device = new RecordingDevice((p) => ({
    params: p,
    startTs: p.start_ts > 0 ? p.start_ts : Math.floor(Date.now() / 1000),
    media: ldTsPath,
    scheduler,
    observer: logObserver(log),
    ...extra,
  }));
  new RpcPeer(ws, device);
  const sessionId = randomBytes(11).toString('hex');
  const { answer } = await ivc.commands.startCloudRecord(loginCode, {
    channel: 0,
    quality: 'ld',
    session_id: sessionId,
    // ivr:// as the vendor's platforms send it: plain http underneath.
    cbk_url: `ivr://127.0.0.1:${new URL(tap.base).port}/record/${sessionId}`,
    ...order,
  });
  if (!('resp' in answer)) throw new Error(`StartCloudRecord refused: ${JSON.stringify(answer)}`);
  const recorder = device.recorder!;
  return {
    ivc,
    loginCode,
    tap,
    device,
    recorder,
    sessionId,
    log,
    async stop() {
      await ivc.commands.stopCloudRecord(loginCode, 0, sessionId);
      await recorder.closed;
    },
    async close() {
      recorder.stop();
      await recorder.closed;
      ws.close();
      await tap.close();
      await ivc.close();
    },
  };
}

/** The platform's summary of a recording (`GET /api/recordings/<session>`). */
export async function platformRecording(rig: Rig): Promise<Record<string, unknown>> {
  const res = await request(`${rig.ivc.httpUrl}/api/recordings/${rig.sessionId}`);
  return (await res.body.json()) as Record<string, unknown>;
}

/** The platform's conformance violations of the rig's device about recording (`record_ts`, `record_size`). */
export async function recordViolations(rig: Rig): Promise<Record<string, number>> {
  const res = await request(`${rig.ivc.httpUrl}/api/devices/${rig.loginCode}`);
  const all = ((await res.body.json()) as { violations: Record<string, number> }).violations;
  // The bare test device sends no keepalives: only the recording rules matter here.
  return Object.fromEntries(Object.entries(all).filter(([rule]) => rule.startsWith('record')));
}
