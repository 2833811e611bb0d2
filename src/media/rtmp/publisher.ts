// RTMP publisher: connect → handshake → connect/releaseStream/FCPublish/createStream/publish, then
// FLV tags paced against the wall clock by a shared PublishScheduler, one socket write per stream per
// tick. Media bytes come from the shared FlvFile; only chunk headers are built per stream.
import { type Socket, connect as tcpConnect } from 'node:net';
import type { FlvFile } from '../flv.js';
import { TAG_VIDEO } from '../flv.js';
import { type Amf0Object, type Amf0Value, decodeAmf0, encodeAmf0 } from './amf0.js';
import { ChunkError, ChunkReader, type RtmpMessage } from './chunk-reader.js';
import { ChunkWriter, maxHeaderBytes } from './chunk-writer.js';
import {
  CSID_AUDIO,
  CSID_COMMAND,
  CSID_DATA,
  CSID_PROTOCOL,
  CSID_STREAM_COMMAND,
  CSID_VIDEO,
  MSG_AUDIO,
  MSG_COMMAND_AMF0,
  MSG_DATA_AMF0,
  MSG_USER_CONTROL,
  MSG_VIDEO,
  USER_CONTROL_PING_REQUEST,
  USER_CONTROL_PING_RESPONSE,
} from './constants.js';
import { type RtmpFailureReason, type RtmpPhase, RtmpPublishError } from './errors.js';
import { ClientHandshake, type HandshakeError } from './handshake.js';
import type { PacedStream, PublishScheduler } from './pacer.js';
import { sendScratch } from './send-scratch.js';
import { type ClockTemplates, clockTemplates, writeClockDigits } from './stream-clock.js';
import { parseRtmpUrl, type RtmpUrl, redactRtmpUrl } from './url.js';

/** Most windows of media one tick sends a stream that is behind: it catches up at this speed. */
export const CATCH_UP_WINDOWS = 5;

/**
 * `copy`: headers and payloads copied into one buffer, one write() per batch.
 * `cork`: payloads referenced, cork() + one write() per part + uncork() (a single writev).
 */
export type WriteMode = 'copy' | 'cork';

export interface PublisherObserver {
  /** Publish.Start received; latency from TCP connect start, ms. */
  onStart?(publisher: RtmpPublisher, latencyMs: number): void;
  /** One sample per scheduler tick: how far behind the wall clock the stream is, ms. */
  onLag?(lagMs: number): void;
  /** The publish failed or broke (any phase); it is over. */
  onFailure?(publisher: RtmpPublisher, error: RtmpPublishError): void;
  /** The stream ended (after stop() or a failure), with its final figures. */
  onEnd?(publisher: RtmpPublisher, stats: PublisherStats): void;
}

export interface PublisherOptions {
  /** rtmp://host[:port]/app/stream */
  url: string;
  media: FlvFile;
  scheduler: PublishScheduler;
  /** Local source address to bind (spreads sockets over 127.0.0.x in load tests). */
  localAddress?: string;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /** From sending `connect` to NetStream.Publish.Start. */
  publishTimeoutMs?: number;
  /** Outgoing chunk size; large so nearly every media message is a single chunk. */
  chunkSize?: number;
  writeMode?: WriteMode;
  /**
   * Stamp every key frame with the wall-clock time it is sent (an H.264 SEI NAL, see
   * stream-clock.ts), for viewers to measure end-to-end delay. Default true.
   */
  clock?: boolean;
  flashVer?: string;
  observer?: PublisherObserver;
}

export type PublisherState =
  | 'idle'
  | 'connecting'
  | 'handshake'
  | 'publishing'
  | 'streaming'
  | 'stopping'
  | 'closed'
  | 'failed';

export interface PublisherStats {
  readonly state: PublisherState;
  /** TCP connect start → NetStream.Publish.Start, ms (null until started). */
  readonly startLatencyMs: number | null;
  /** All bytes written to the socket (handshake, commands, chunk headers, media). */
  readonly bytesSent: number;
  /** Audio/video/metadata payload bytes sent. */
  readonly mediaBytesSent: number;
  readonly tagsSent: number;
  /** Completed passes over the file. */
  readonly loops: number;
  /** RTMP timestamp of the last tag sent, ms. */
  readonly mediaTimeMs: number;
  /** Wall time since Publish.Start, ms. */
  readonly elapsedMs: number;
  /** mediaBytesSent × 8 / (elapsed + send window), bit/s. */
  readonly bitrate: number;
  readonly lagMs: number;
  readonly maxLagMs: number;
}

const DEFAULT_CHUNK_SIZE = 60000;
const STOP_GRACE_MS = 3000;

// "@setDataFrame" + the file's onMetaData body, built once per file and shared by every stream.
const dataFrames = new WeakMap<FlvFile, Buffer | null>();
function setDataFrame(media: FlvFile): Buffer | null {
  let frame = dataFrames.get(media);
  if (frame === undefined) {
    frame = media.metadataPayload
      ? Buffer.concat([encodeAmf0(['@setDataFrame']), media.metadataPayload])
      : null;
    dataFrames.set(media, frame);
  }
  return frame;
}

export class RtmpPublisher implements PacedStream {
  readonly url: RtmpUrl | null;
  /** Settles when the publisher is over: null after a clean stop, the error after a failure. */
  readonly closed: Promise<RtmpPublishError | null>;
  private resolveClosed!: (e: RtmpPublishError | null) => void;

  private _state: PublisherState = 'idle';
  private socket: Socket | null = null;
  private readonly writer = new ChunkWriter();
  private readonly reader: ChunkReader;
  private handshake: ClientHandshake | null = null;
  private phaseTimer: NodeJS.Timeout | null = null;
  private startSettle: { resolve: () => void; reject: (e: RtmpPublishError) => void } | null = null;
  private readonly pending = new Map<number, (ok: boolean, values: Amf0Value[]) => void>();
  private streamId = 0;

  private connectAt = 0;
  private startLatency: number | null = null;
  private t0 = 0;
  private endAt = 0;
  private nextIndex = 0;
  private loopBase = 0;
  private headersSent = false;
  private bytes = 0;
  private mediaBytes = 0;
  private tags = 0;
  private loopCount = 0;
  private mediaTime = 0;
  private lag = 0;
  private maxLag = 0;
  /** Key frames with the clock spliced in (shared per file); null with the clock off. */
  private readonly clock: ClockTemplates | null;

  constructor(private readonly options: PublisherOptions) {
    this.url = parseRtmpUrl(options.url);
    this.reader = new ChunkReader((m) => this.onMessage(m));
    this.clock = options.clock === false ? null : clockTemplates(options.media);
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
  }

  get state(): PublisherState {
    return this._state;
  }

  /** Resolves on NetStream.Publish.Start; rejects with RtmpPublishError. Media flows from then on. */
  start(): Promise<void> {
    if (this._state !== 'idle') return Promise.reject(new Error('publisher already started'));
    return new Promise<void>((resolve, reject) => {
      this.startSettle = { resolve, reject };
      if (!this.url) {
        this.fail('bad_url', 'connect', 'not an rtmp://host[:port]/app/stream URL');
        return;
      }
      this.open(this.url);
    });
  }

  /** FCUnpublish + deleteStream, then close. Safe in any state; resolves when the socket is closed. */
  async stop(): Promise<void> {
    const s = this._state;
    if (s === 'closed' || s === 'failed' || s === 'stopping') {
      await this.closed;
      return;
    }
    this.options.scheduler.remove(this);
    this.clearPhaseTimer();
    if (s === 'idle') {
      this.finish(null);
      return;
    }
    if (s !== 'streaming') {
      // Still starting: give up without a goodbye; start() rejects, but this is not a failure.
      this._state = 'stopping';
      this.startSettle?.reject(new RtmpPublishError('closed', 'publish', 'stopped before publish started'));
      this.startSettle = null;
      this.socket?.destroy();
      return void (await this.closed);
    }
    this._state = 'stopping';
    this.endAt = this.options.scheduler.now();
    const name = this.url?.stream ?? '';
    this.write(
      Buffer.concat([
        this.command(CSID_COMMAND, 0, ['FCUnpublish', 6, null, name]),
        this.command(CSID_COMMAND, 0, ['deleteStream', 7, null, this.streamId]),
      ]),
    );
    const socket = this.socket as Socket;
    socket.end();
    const grace = setTimeout(() => socket.destroy(), STOP_GRACE_MS);
    await this.closed;
    clearTimeout(grace);
  }

  /** FLV tag bytes sent so far (what `stats()` reports as `mediaBytesSent`, without building it). */
  get mediaBytesSent(): number {
    return this.mediaBytes;
  }

  stats(): PublisherStats {
    const end = this._state === 'streaming' ? this.options.scheduler.now() : this.endAt;
    const elapsed = this.startLatency === null ? 0 : Math.max(0, end - this.t0);
    return {
      state: this._state,
      startLatencyMs: this.startLatency,
      bytesSent: this.bytes,
      mediaBytesSent: this.mediaBytes,
      tagsSent: this.tags,
      loops: this.loopCount,
      mediaTimeMs: this.mediaTime,
      elapsedMs: elapsed,
      // What was sent covers the elapsed time plus the send window ahead of it.
      bitrate:
        elapsed > 0 ? Math.round((this.mediaBytes * 8000) / (elapsed + this.options.scheduler.windowMs)) : 0,
      lagMs: this.lag,
      maxLagMs: this.maxLag,
    };
  }

  // ---- connection and command phase ----

  private open(url: RtmpUrl): void {
    const o = this.options;
    this._state = 'connecting';
    this.connectAt = o.scheduler.now();
    const socket = tcpConnect({
      host: url.host,
      port: url.port,
      noDelay: true,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    this.socket = socket;
    this.armPhaseTimer(o.connectTimeoutMs ?? 5000, 'connect_timeout', 'connect');
    socket.once('connect', () => {
      this._state = 'handshake';
      this.handshake = new ClientHandshake();
      this.write(this.handshake.start());
      this.armPhaseTimer(o.handshakeTimeoutMs ?? 5000, 'handshake_timeout', 'handshake');
    });
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e: NodeJS.ErrnoException) => this.onSocketError(e));
    socket.on('close', () => this.onClose());
  }

  private onData(data: Buffer): void {
    if (this.handshake) {
      let step: ReturnType<ClientHandshake['push']>;
      try {
        step = this.handshake.push(data);
      } catch (e) {
        this.fail('handshake_failed', 'handshake', (e as HandshakeError).message);
        return;
      }
      if (step.reply) this.write(Buffer.from(step.reply));
      if (!step.rest) return;
      this.handshake = null;
      this.afterHandshake();
      data = step.rest;
      if (data.length === 0) return;
    }
    try {
      this.reader.push(data);
    } catch (e) {
      if (e instanceof ChunkError) this.fail('protocol_error', this.phase(), e.message);
      else throw e;
    }
  }

  private afterHandshake(): void {
    const url = this.url as RtmpUrl;
    this._state = 'publishing';
    this.armPhaseTimer(this.options.publishTimeoutMs ?? 10000, 'publish_timeout', 'publish');
    const connectCmd: Amf0Object = {
      app: url.app,
      type: 'nonprivate',
      flashVer: this.options.flashVer ?? 'FMLE/3.0 (compatible; ivtfarm)',
      tcUrl: url.tcUrl,
    };
    this.pending.set(1, (ok, values) => {
      if (!ok) {
        const code = statusCode(values[3]);
        this.fail(
          'connect_rejected',
          'publish',
          `connect refused by ${url.tcUrl}: ${code ?? '_error'}`,
          code,
        );
        return;
      }
      this.pending.set(4, (ok4, v4) => this.onCreateStream(ok4, v4));
      this.write(
        Buffer.concat([
          this.command(CSID_COMMAND, 0, ['releaseStream', 2, null, url.stream]),
          this.command(CSID_COMMAND, 0, ['FCPublish', 3, null, url.stream]),
          this.command(CSID_COMMAND, 0, ['createStream', 4, null]),
        ]),
      );
    });
    this.write(
      Buffer.concat([
        this.writer.setChunkSize(this.options.chunkSize ?? DEFAULT_CHUNK_SIZE),
        this.command(CSID_COMMAND, 0, ['connect', 1, connectCmd]),
      ]),
    );
  }

  private onCreateStream(ok: boolean, values: Amf0Value[]): void {
    const id = values[3];
    if (!ok || typeof id !== 'number') {
      this.fail('publish_refused', 'publish', 'createStream refused', statusCode(values[3]));
      return;
    }
    this.streamId = id;
    const url = this.url as RtmpUrl;
    this.write(this.command(CSID_STREAM_COMMAND, id, ['publish', 5, null, url.stream, 'live']));
  }

  private onMessage(msg: RtmpMessage): void {
    if (msg.type === MSG_USER_CONTROL) {
      if (msg.payload.length >= 6 && msg.payload.readUInt16BE(0) === USER_CONTROL_PING_REQUEST) {
        const body = Buffer.allocUnsafe(6);
        body.writeUInt16BE(USER_CONTROL_PING_RESPONSE, 0);
        msg.payload.copy(body, 2, 2, 6);
        this.write(this.writer.message(CSID_PROTOCOL, MSG_USER_CONTROL, 0, 0, body));
      }
      return;
    }
    if (msg.type !== MSG_COMMAND_AMF0) return;
    let values: Amf0Value[];
    try {
      values = decodeAmf0(msg.payload);
    } catch {
      this.fail('protocol_error', this.phase(), 'undecodable AMF0 command from server');
      return;
    }
    const name = values[0];
    if (name === '_result' || name === '_error') {
      const txn = values[1];
      const handler = typeof txn === 'number' ? this.pending.get(txn) : undefined;
      if (handler) {
        this.pending.delete(txn as number);
        handler(name === '_result', values);
      }
    } else if (name === 'onStatus') {
      this.onStatus(values[3]);
    }
  }

  private onStatus(info: Amf0Value): void {
    if (!info || typeof info !== 'object' || Array.isArray(info) || info instanceof Date) return;
    const code = typeof info.code === 'string' ? info.code : '';
    const isError = info.level === 'error';
    if (this._state === 'publishing') {
      if (code === 'NetStream.Publish.Start') this.onPublishStart();
      else if (isError) {
        const reason: RtmpFailureReason =
          code === 'NetStream.Publish.BadName' ? 'bad_name' : 'publish_refused';
        this.fail(reason, 'publish', `publish refused: ${code}`, code);
      }
    } else if (this._state === 'streaming' && isError) {
      this.fail('publish_refused', 'streaming', `server ended the publish: ${code}`, code);
    }
  }

  private onPublishStart(): void {
    this.clearPhaseTimer();
    const now = this.options.scheduler.now();
    this._state = 'streaming';
    this.startLatency = now - this.connectAt;
    this.t0 = now;
    this.options.observer?.onStart?.(this, this.startLatency);
    this.startSettle?.resolve();
    this.startSettle = null;
    this.options.scheduler.add(this);
    this.serve(now); // first window at once: the server should not wait a tick for the headers
  }

  // ---- media ----

  serve(now: number): void {
    if (this._state !== 'streaming') return;
    const media = this.options.media;
    const tags = media.tags;
    const loop = media.loopDuration;
    const elapsed = now - this.t0;

    let i = this.nextIndex;
    let base = this.loopBase;
    const first = tags[i] as (typeof tags)[number];
    const lag = Math.max(0, elapsed - (first.timestamp + base));
    this.lag = lag;
    if (lag > this.maxLag) this.maxLag = lag;
    this.options.observer?.onLag?.(lag);

    const socket = this.socket as Socket;
    // Backpressure: the last batch is still queued in user space. Do not pile up more; the stream
    // falls behind the wall clock and that shows as lag.
    if (socket.writableNeedDrain) return;

    // Pass 1: what is due, at most CATCH_UP_WINDOWS windows of media (and one loop of the file).
    // A stream that fell behind catches up over several ticks: were every stream of a starved
    // thread to send all it owes at once, one tick would hold the event loop for seconds (measured:
    // 2–17 s with 5,000 streams a thread), and handshakes and keepalives would time out behind it.
    const windowMs = this.options.scheduler.windowMs;
    const limit = Math.min(elapsed, first.timestamp + base + (CATCH_UP_WINDOWS - 1) * windowMs) + windowMs;
    const chunkSize = this.writer.chunkSize;
    const stamped = this.clock?.payloads ?? null;
    let count = 0;
    let payloadBytes = 0;
    let headerBytes = 0;
    while (count < tags.length) {
      const t = tags[i] as (typeof tags)[number];
      if (t.timestamp + base > limit) break;
      const length = (stamped?.[i] ?? t.payload).length;
      payloadBytes += length;
      headerBytes += maxHeaderBytes(length, chunkSize);
      count++;
      if (++i === tags.length) {
        i = 0;
        base += loop;
      }
    }
    const prefix = this.headersSent ? null : this.headerMessages();
    if (prefix) {
      for (const p of prefix) {
        payloadBytes += p.payload.length;
        headerBytes += maxHeaderBytes(p.payload.length, chunkSize);
      }
    }
    if (count === 0 && !prefix) return;

    // Pass 2: encode from the old position.
    i = this.nextIndex;
    base = this.loopBase;
    const sid = this.streamId;
    const w = this.writer;
    const copy = this.options.writeMode !== 'cork';
    let wallClock = 0; // taken at the first key frame of the batch: all leave in this write
    // Copy mode encodes into the thread's reused buffer (send-scratch.ts); cork mode keeps its
    // header chunks referenced by the socket, so they get a buffer of their own.
    const out = copy ? sendScratch.take(payloadBytes + headerBytes) : Buffer.allocUnsafe(headerBytes);
    const parts: Buffer[] = [];
    let off = 0;
    if (prefix) {
      for (const p of prefix) {
        off = copy
          ? w.encodeTo(out, off, p.csid, p.type, sid, 0, p.payload)
          : w.encodeParts(out, off, parts, p.csid, p.type, sid, 0, p.payload);
      }
      this.headersSent = true;
    }
    let ts = 0;
    for (let n = 0; n < count; n++) {
      const t = tags[i] as (typeof tags)[number];
      ts = t.timestamp + base;
      const video = t.type === TAG_VIDEO;
      const csid = video ? CSID_VIDEO : CSID_AUDIO;
      const type = video ? MSG_VIDEO : MSG_AUDIO;
      let payload = t.payload;
      const template = stamped?.[i];
      if (template) {
        wallClock ||= Date.now();
        writeClockDigits(template, (this.clock as ClockTemplates).digitsAt[i] as number, wallClock);
        // The template is shared: copied now (copy mode), or its own copy when referenced (cork).
        payload = copy ? template : Buffer.from(template);
      }
      off = copy
        ? w.encodeTo(out, off, csid, type, sid, ts, payload)
        : w.encodeParts(out, off, parts, csid, type, sid, ts, payload);
      if (++i === tags.length) {
        i = 0;
        base += loop;
        this.loopCount++;
      }
    }
    this.nextIndex = i;
    this.loopBase = base;
    if (count > 0) this.mediaTime = ts;
    this.tags += count;
    this.mediaBytes += payloadBytes;

    if (copy) {
      this.bytes += off;
      socket.write(out.subarray(0, off));
      sendScratch.written(socket.writableLength > 0);
    } else {
      this.bytes += off + payloadBytes;
      socket.cork();
      for (const p of parts) socket.write(p);
      socket.uncork();
    }
  }

  private headerMessages(): { csid: number; type: number; payload: Buffer }[] {
    const m = this.options.media;
    const out: { csid: number; type: number; payload: Buffer }[] = [];
    const frame = setDataFrame(m);
    if (frame) out.push({ csid: CSID_DATA, type: MSG_DATA_AMF0, payload: frame });
    if (m.videoConfig) out.push({ csid: CSID_VIDEO, type: MSG_VIDEO, payload: m.videoConfig });
    if (m.audioConfig) out.push({ csid: CSID_AUDIO, type: MSG_AUDIO, payload: m.audioConfig });
    return out;
  }

  // ---- plumbing ----

  private command(csid: number, streamId: number, values: Amf0Value[]): Buffer {
    return this.writer.message(csid, MSG_COMMAND_AMF0, streamId, 0, encodeAmf0(values));
  }

  private write(buf: Buffer): void {
    this.bytes += buf.length;
    this.socket?.write(buf);
  }

  private phase(): RtmpPhase {
    switch (this._state) {
      case 'idle':
      case 'connecting':
        return 'connect';
      case 'handshake':
        return 'handshake';
      case 'publishing':
        return 'publish';
      default:
        return 'streaming';
    }
  }

  private armPhaseTimer(ms: number, reason: RtmpFailureReason, phase: RtmpPhase): void {
    this.clearPhaseTimer();
    this.phaseTimer = setTimeout(() => this.fail(reason, phase, `${phase} timed out after ${ms} ms`), ms);
  }

  private clearPhaseTimer(): void {
    if (this.phaseTimer) clearTimeout(this.phaseTimer);
    this.phaseTimer = null;
  }

  private onSocketError(e: NodeJS.ErrnoException): void {
    const phase = this.phase();
    const code = e.code ?? 'unknown';
    if (phase === 'connect' && ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) {
      this.fail('connect_refused', phase, `cannot connect: ${code}`);
    } else if (code === 'ECONNRESET' || code === 'EPIPE') {
      this.fail('closed', phase, `connection reset by server (${code})`);
    } else {
      this.fail('socket_error', phase, `socket error ${code}`);
    }
  }

  private onClose(): void {
    if (this._state === 'stopping') this.finish(null);
    else this.fail('closed', this.phase(), 'server closed the connection');
  }

  private fail(reason: RtmpFailureReason, phase: RtmpPhase, message: string, statusCode?: string): void {
    const s = this._state;
    if (s === 'closed' || s === 'failed') return;
    if (s === 'stopping') {
      // Errors while saying goodbye (reset after FCUnpublish, ...) do not make a clean stop a failure.
      this.socket?.destroy();
      this.finish(null);
      return;
    }
    const where = this.url ? ` (${redactRtmpUrl(this.url)})` : '';
    const err = new RtmpPublishError(reason, phase, `${message}${where}`, statusCode);
    if (s === 'streaming') this.endAt = this.options.scheduler.now();
    this._state = 'failed';
    this.clearPhaseTimer();
    this.options.scheduler.remove(this);
    this.socket?.destroy();
    this.options.observer?.onFailure?.(this, err);
    this.startSettle?.reject(err);
    this.startSettle = null;
    this.settle(err);
  }

  private finish(err: null): void {
    this._state = 'closed';
    this.settle(err);
  }

  private settle(err: RtmpPublishError | null): void {
    this.options.observer?.onEnd?.(this, this.stats());
    this.resolveClosed(err);
  }
}

function statusCode(info: Amf0Value): string | undefined {
  if (info && typeof info === 'object' && !Array.isArray(info) && !(info instanceof Date)) {
    return typeof info.code === 'string' ? info.code : undefined;
  }
  return undefined;
}
