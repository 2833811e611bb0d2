// A small RTMP ingest server: accepts connect / createStream / publish, refuses duplicate (or
// unauthorised) stream names with NetStream.Publish.BadName, reassembles chunks and checks what
// arrives (timestamps monotonic per type, video starting with an AVC sequence header). Per-stream
// byte counts and a recent bitrate are kept for the reference platform and the bench. In `discard`
// mode a stream is only counted, never parsed, once publishing has started: a cheap sink.
import { createServer, type Server, type Socket } from 'node:net';
import { type Amf0Value, decodeAmf0, encodeAmf0 } from './amf0.js';
import { ChunkError, ChunkReader, type RtmpMessage } from './chunk-reader.js';
import { ChunkWriter } from './chunk-writer.js';
import {
  CSID_AUDIO,
  CSID_COMMAND,
  CSID_DATA,
  CSID_PROTOCOL,
  CSID_STREAM_COMMAND,
  CSID_VIDEO,
  MSG_ACK,
  MSG_AUDIO,
  MSG_COMMAND_AMF0,
  MSG_DATA_AMF0,
  MSG_SET_PEER_BANDWIDTH,
  MSG_USER_CONTROL,
  MSG_VIDEO,
  MSG_WINDOW_ACK_SIZE,
  USER_CONTROL_STREAM_BEGIN,
} from './constants.js';
import { HandshakeError, ServerHandshake } from './handshake.js';
import { PlaybackHub, type PlaybackSubscriber } from './playback.js';

export interface IngestStreamStats {
  /** Unique per server run. */
  readonly id: number;
  readonly app: string;
  /** Stream name without its `?query`. */
  readonly name: string;
  readonly remoteAddress: string;
  /** Epoch ms of NetStream.Publish.Start; of the end (null while live). */
  readonly startedAt: number;
  readonly endedAt: number | null;
  /** Every byte received on the connection (handshake and commands included). */
  readonly bytes: number;
  /** Audio/video/data payload bytes (0 in discard mode: not parsed). */
  readonly mediaBytes: number;
  readonly videoTags: number;
  readonly audioTags: number;
  readonly dataTags: number;
  /** Wire bitrate over the last `bitrateWindowMs` (whole life once ended), bit/s. */
  readonly bitrate: number;
  readonly lastVideoTimestamp: number;
  readonly lastAudioTimestamp: number;
  readonly violations: number;
  /** The first few violations, for a human. */
  readonly violationSamples: readonly string[];
}

export interface PublishRequest {
  readonly app: string;
  readonly name: string;
  readonly remoteAddress: string;
}

export interface IngestServerOptions {
  host?: string;
  /** 0 (default): a free port; read it back from address(). */
  port?: number;
  /** Count bytes only once publishing (no tag parsing or validation). */
  discard?: boolean;
  /** Refuse a second publish of a live name with BadName (default true). */
  refuseDuplicates?: boolean;
  /** Return false to refuse a publish with NetStream.Publish.BadName. */
  authorize?: (req: PublishRequest) => boolean;
  /** Span of the "recent" bitrate (default 5000 ms). */
  bitrateWindowMs?: number;
  handshakeTimeoutMs?: number;
  /** Ended streams kept for stats() (oldest dropped first; default 10000). */
  keepEnded?: number;
  onPublish?: (stats: IngestStreamStats) => void;
  onEnd?: (stats: IngestStreamStats) => void;
  /**
   * Serve RTMP `play` of live streams (and HTTP-FLV through HttpFlvServer) — default true; always
   * off in discard mode, where nothing is parsed.
   */
  playback?: boolean;
  /** Per watched stream, the cached GOP for a fast start is dropped past this (default 4 MiB). */
  maxGopBytes?: number;
}

/** A player's socket with more than this queued skips to the next key frame. */
const PLAYER_MAX_QUEUED = 2 * 1024 * 1024;

const MAX_SAMPLES = 10;
const OUT_CHUNK_SIZE = 4096;
const SERVER_WINDOW = 5_000_000;

class IngestStream implements IngestStreamStats {
  endedAt: number | null = null;
  mediaBytes = 0;
  videoTags = 0;
  audioTags = 0;
  dataTags = 0;
  lastVideoTimestamp = -1;
  lastAudioTimestamp = -1;
  violations = 0;
  violationSamples: string[] = [];
  // Byte counts sampled once a second by the server's single timer: [time, bytes] pairs.
  readonly history: number[] = [];

  constructor(
    readonly id: number,
    readonly app: string,
    readonly name: string,
    readonly remoteAddress: string,
    readonly startedAt: number,
    private readonly conn: Connection,
    private readonly windowMs: number,
  ) {
    this.startBytes = conn.bytesIn;
  }

  private readonly startBytes: number;

  get bytes(): number {
    return this.conn.bytesIn;
  }

  get bitrate(): number {
    const now = this.endedAt ?? Date.now();
    if (this.endedAt !== null || this.history.length < 4) {
      const dt = now - this.startedAt;
      return dt > 0 ? Math.round(((this.bytes - this.startBytes) * 8000) / dt) : 0;
    }
    const t = this.history[0] as number;
    const b = this.history[1] as number;
    const dt = now - t;
    return dt > 0 ? Math.round(((this.bytes - b) * 8000) / dt) : 0;
  }

  sample(now: number): void {
    this.history.push(now, this.bytes);
    // Keep the oldest sample that is still inside the window (plus one second of slack).
    while (this.history.length > 4 && now - (this.history[2] as number) >= this.windowMs)
      this.history.splice(0, 2);
  }

  violation(text: string): void {
    this.violations++;
    if (this.violationSamples.length < MAX_SAMPLES) this.violationSamples.push(text);
  }

  snapshot(): IngestStreamStats {
    return {
      id: this.id,
      app: this.app,
      name: this.name,
      remoteAddress: this.remoteAddress,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      bytes: this.bytes,
      mediaBytes: this.mediaBytes,
      videoTags: this.videoTags,
      audioTags: this.audioTags,
      dataTags: this.dataTags,
      bitrate: this.bitrate,
      lastVideoTimestamp: this.lastVideoTimestamp,
      lastAudioTimestamp: this.lastAudioTimestamp,
      violations: this.violations,
      violationSamples: [...this.violationSamples],
    };
  }
}

class Connection {
  bytesIn = 0;
  app = '';
  stream: IngestStream | null = null;
  private handshake: ServerHandshake | null = new ServerHandshake();
  private readonly reader = new ChunkReader((m) => this.onMessage(m));
  private readonly writer = new ChunkWriter();
  private counting = false;
  private ackWindow = 0;
  private lastAck = 0;
  private nextStreamId = 1;
  private readonly handshakeTimer: NodeJS.Timeout;
  /** Set while this connection plays a stream. */
  private unsubscribe: (() => void) | null = null;

  constructor(
    readonly socket: Socket,
    private readonly server: RtmpIngestServer,
    handshakeTimeoutMs: number,
  ) {
    this.handshakeTimer = setTimeout(() => socket.destroy(), handshakeTimeoutMs);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => {}); // a reset peer just ends the stream (see close)
    socket.on('close', () => {
      clearTimeout(this.handshakeTimer);
      this.stopPlaying();
      this.server.ended(this);
    });
  }

  private onData(data: Buffer): void {
    this.bytesIn += data.length;
    if (this.ackWindow > 0 && this.bytesIn - this.lastAck >= this.ackWindow) this.ack();
    if (this.counting) return; // discard mode: nothing but the count
    if (this.handshake) {
      let step: ReturnType<ServerHandshake['push']>;
      try {
        step = this.handshake.push(data);
      } catch (e) {
        if (e instanceof HandshakeError) this.socket.destroy();
        return;
      }
      if (step.reply) this.socket.write(step.reply);
      if (!step.rest) return;
      this.handshake = null;
      clearTimeout(this.handshakeTimer);
      data = step.rest;
      if (data.length === 0) return;
    }
    try {
      this.reader.push(data);
    } catch (e) {
      if (!(e instanceof ChunkError)) throw e;
      this.stream?.violation(`chunk stream error: ${e.message}`);
      this.socket.destroy();
    }
  }

  private ack(): void {
    this.lastAck = this.bytesIn;
    const body = Buffer.allocUnsafe(4);
    body.writeUInt32BE(this.bytesIn >>> 0, 0);
    this.socket.write(this.writer.message(CSID_PROTOCOL, MSG_ACK, 0, 0, body));
  }

  private onMessage(m: RtmpMessage): void {
    switch (m.type) {
      case MSG_VIDEO:
      case MSG_AUDIO:
      case MSG_DATA_AMF0:
        if (this.stream && this.stream.endedAt === null) this.media(this.stream, m);
        return;
      case MSG_WINDOW_ACK_SIZE:
        if (m.payload.length >= 4) this.ackWindow = m.payload.readUInt32BE(0);
        return;
      case MSG_COMMAND_AMF0:
        this.command(m);
        return;
      default:
        return; // chunk size and abort are handled by the reader; the rest needs no answer
    }
  }

  private media(s: IngestStream, m: RtmpMessage): void {
    s.mediaBytes += m.payload.length;
    if (m.type === MSG_DATA_AMF0) {
      s.dataTags++;
      this.server.playback?.media(s.name, m.type, m.timestamp, m.payload);
      return;
    }
    if (m.type === MSG_VIDEO) {
      if (s.videoTags === 0) {
        const p = m.payload;
        if (p.length < 2 || ((p[0] as number) & 0x0f) !== 7 || p[1] !== 0) {
          s.violation('first video tag is not an AVC sequence header');
        }
      }
      if (m.timestamp < s.lastVideoTimestamp) {
        s.violation(`video timestamp went back from ${s.lastVideoTimestamp} to ${m.timestamp}`);
      }
      s.lastVideoTimestamp = m.timestamp;
      s.videoTags++;
    } else {
      if (m.timestamp < s.lastAudioTimestamp) {
        s.violation(`audio timestamp went back from ${s.lastAudioTimestamp} to ${m.timestamp}`);
      }
      s.lastAudioTimestamp = m.timestamp;
      s.audioTags++;
    }
    this.server.playback?.media(s.name, m.type, m.timestamp, m.payload);
  }

  private send(csid: number, type: number, streamId: number, body: Buffer): void {
    this.socket.write(this.writer.message(csid, type, streamId, 0, body));
  }

  private commandReply(streamId: number, values: Amf0Value[]): void {
    this.send(
      streamId === 0 ? CSID_COMMAND : CSID_STREAM_COMMAND,
      MSG_COMMAND_AMF0,
      streamId,
      encodeAmf0(values),
    );
  }

  private status(streamId: number, level: 'status' | 'error', code: string, description: string): void {
    this.commandReply(streamId, ['onStatus', 0, null, { level, code, description }]);
  }

  private command(m: RtmpMessage): void {
    let values: Amf0Value[];
    try {
      values = decodeAmf0(m.payload);
    } catch {
      this.socket.destroy();
      return;
    }
    const [name, txn] = values;
    const tid = typeof txn === 'number' ? txn : 0;
    switch (name) {
      case 'connect': {
        const obj = values[2];
        const app =
          obj && typeof obj === 'object' && !Array.isArray(obj) && !(obj instanceof Date) ? obj.app : '';
        this.app = typeof app === 'string' ? app : '';
        const was = Buffer.allocUnsafe(4);
        was.writeUInt32BE(SERVER_WINDOW, 0);
        const bw = Buffer.allocUnsafe(5);
        bw.writeUInt32BE(SERVER_WINDOW, 0);
        bw[4] = 2; // dynamic
        this.socket.cork();
        this.send(CSID_PROTOCOL, MSG_WINDOW_ACK_SIZE, 0, was);
        this.send(CSID_PROTOCOL, MSG_SET_PEER_BANDWIDTH, 0, bw);
        this.socket.write(this.writer.setChunkSize(OUT_CHUNK_SIZE));
        this.commandReply(0, [
          '_result',
          tid,
          { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
          {
            level: 'status',
            code: 'NetConnection.Connect.Success',
            description: 'Connection succeeded.',
            objectEncoding: 0,
          },
        ]);
        this.socket.uncork();
        return;
      }
      case 'createStream':
        this.commandReply(0, ['_result', tid, null, this.nextStreamId++]);
        return;
      case 'publish': {
        const full = typeof values[3] === 'string' ? values[3] : '';
        this.publish(m.streamId, full);
        return;
      }
      case 'play': {
        const full = typeof values[3] === 'string' ? values[3] : '';
        this.play(m.streamId, full);
        return;
      }
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        this.stopPlaying();
        if (this.stream) this.server.ended(this);
        return;
      default:
        return; // releaseStream, FCPublish, ...: no answer needed (nginx-rtmp does not answer either)
    }
  }

  private streamBegin(streamId: number): void {
    const begin = Buffer.alloc(6);
    begin.writeUInt16BE(USER_CONTROL_STREAM_BEGIN, 0);
    begin.writeUInt32BE(streamId, 2);
    this.send(CSID_PROTOCOL, MSG_USER_CONTROL, 0, begin);
  }

  private play(streamId: number, full: string): void {
    const hub = this.server.playback;
    const q = full.indexOf('?');
    const name = q >= 0 ? full.slice(0, q) : full;
    if (!hub || this.stream || this.unsubscribe) {
      this.status(streamId, 'error', 'NetStream.Play.Failed', hub ? 'already busy' : 'playback is off');
      return;
    }
    this.socket.cork();
    this.streamBegin(streamId);
    this.status(streamId, 'status', 'NetStream.Play.Reset', `Playing and resetting ${name}.`);
    this.status(streamId, 'status', 'NetStream.Play.Start', `Started playing ${name}.`);
    this.send(CSID_DATA, MSG_DATA_AMF0, streamId, encodeAmf0(['|RtmpSampleAccess', true, true]));
    this.socket.uncork();
    const socket = this.socket;
    const writer = this.writer;
    const sub: PlaybackSubscriber = {
      send(type, timestamp, payload) {
        const csid = type === MSG_VIDEO ? CSID_VIDEO : type === MSG_AUDIO ? CSID_AUDIO : CSID_DATA;
        socket.write(writer.message(csid, type, streamId, timestamp, payload));
      },
      congested: () => socket.writableLength > PLAYER_MAX_QUEUED,
      unpublished: () =>
        this.status(streamId, 'status', 'NetStream.Play.UnpublishNotify', `${name} is now unpublished.`),
    };
    this.unsubscribe = hub.subscribe(name, sub);
  }

  private stopPlaying(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private publish(streamId: number, full: string): void {
    const q = full.indexOf('?');
    const name = q >= 0 ? full.slice(0, q) : full;
    const refusal = this.stream ? 'already publishing on this connection' : this.server.refusal(this, name);
    if (refusal !== null) {
      this.status(streamId, 'error', 'NetStream.Publish.BadName', refusal);
      this.socket.end();
      return;
    }
    this.socket.cork();
    this.streamBegin(streamId);
    this.status(streamId, 'status', 'NetStream.Publish.Start', `${name} is now published.`);
    this.socket.uncork();
    this.stream = this.server.started(this, name);
    if (this.server.discard) {
      this.reader.stop();
      this.counting = true;
    }
  }
}

export class RtmpIngestServer {
  readonly discard: boolean;
  /** Live streams for players (RTMP play here, HTTP-FLV via HttpFlvServer); null when off. */
  readonly playback: PlaybackHub | null;
  private readonly server: Server;
  private readonly live = new Map<string, IngestStream>();
  private readonly endedList: IngestStream[] = [];
  private readonly connections = new Set<Connection>();
  private nextId = 1;
  private sampler: NodeJS.Timeout | null = null;

  constructor(private readonly options: IngestServerOptions = {}) {
    this.discard = options.discard ?? false;
    this.playback = this.discard || options.playback === false ? null : new PlaybackHub(options.maxGopBytes);
    this.server = createServer((socket) => {
      socket.setNoDelay(true);
      const conn = new Connection(socket, this, options.handshakeTimeoutMs ?? 10000);
      this.connections.add(conn);
      socket.once('close', () => this.connections.delete(conn));
    });
  }

  async listen(): Promise<{ host: string; port: number }> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.sampler = setInterval(() => this.sampleAll(), 1000);
    this.sampler.unref();
    return this.address();
  }

  address(): { host: string; port: number } {
    const a = this.server.address();
    if (!a || typeof a === 'string') throw new Error('ingest server is not listening');
    return { host: a.address, port: a.port };
  }

  /** Live and recently ended streams. */
  stats(): IngestStreamStats[] {
    return [...this.live.values(), ...this.endedList].map((s) => s.snapshot());
  }

  /** Stats of the live stream of that name, or of the latest ended one. */
  stream(name: string): IngestStreamStats | null {
    const live = this.live.get(name);
    if (live) return live.snapshot();
    for (let i = this.endedList.length - 1; i >= 0; i--) {
      const s = this.endedList[i] as IngestStream;
      if (s.name === name) return s.snapshot();
    }
    return null;
  }

  get liveCount(): number {
    return this.live.size;
  }

  /** Drops a live stream's connection (as a platform kicking a publisher would). */
  kick(name: string): boolean {
    for (const c of this.connections) {
      if (c.stream?.name === name && c.stream.endedAt === null) {
        c.socket.destroy();
        return true;
      }
    }
    return false;
  }

  /**
   * Stops (true) or resumes (false) reading a live stream's socket: a stalled platform. The
   * publisher's writes back up; it must show that as lag.
   */
  stall(name: string, stalled: boolean): boolean {
    for (const c of this.connections) {
      if (c.stream?.name === name && c.stream.endedAt === null) {
        if (stalled) c.socket.pause();
        else c.socket.resume();
        return true;
      }
    }
    return false;
  }

  async close(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.connections) c.socket.destroy();
    await closed;
  }

  // ---- called by connections ----

  /** @internal null to accept, else the BadName description. */
  refusal(conn: Connection, name: string): string | null {
    if ((this.options.refuseDuplicates ?? true) && this.live.has(name))
      return 'stream name already publishing';
    const auth = this.options.authorize;
    if (auth && !auth({ app: conn.app, name, remoteAddress: conn.socket.remoteAddress ?? '' })) {
      return 'publish not authorised';
    }
    return null;
  }

  /** @internal */
  started(conn: Connection, name: string): IngestStream {
    const s = new IngestStream(
      this.nextId++,
      conn.app,
      name,
      conn.socket.remoteAddress ?? '',
      Date.now(),
      conn,
      this.options.bitrateWindowMs ?? 5000,
    );
    s.sample(s.startedAt);
    this.live.set(name, s);
    this.playback?.publish(name);
    this.options.onPublish?.(s.snapshot());
    return s;
  }

  /** @internal */
  ended(conn: Connection): void {
    const s = conn.stream;
    if (!s || s.endedAt !== null) return;
    s.endedAt = Date.now();
    if (this.live.get(s.name) === s) {
      this.live.delete(s.name);
      this.playback?.unpublish(s.name);
    }
    this.endedList.push(s);
    const keep = this.options.keepEnded ?? 10000;
    if (this.endedList.length > keep) this.endedList.splice(0, this.endedList.length - keep);
    this.options.onEnd?.(s.snapshot());
  }

  private sampleAll(): void {
    const now = Date.now();
    for (const s of this.live.values()) s.sample(now);
  }
}
