// RTMP play client: handshake, connect, createStream, play; then counts bytes and hands audio,
// video, script and aggregate messages to the playout meter. Acknowledges received bytes when the
// server sets a window, answers pings. One socket, no timers of its own.
import { type Socket, connect as tcpConnect } from 'node:net';
import { type Amf0Value, decodeAmf0, encodeAmf0 } from '../media/rtmp/amf0.js';
import { ChunkError, ChunkReader, type RtmpMessage } from '../media/rtmp/chunk-reader.js';
import { ChunkWriter } from '../media/rtmp/chunk-writer.js';
import {
  CSID_COMMAND,
  CSID_PROTOCOL,
  CSID_STREAM_COMMAND,
  MSG_ACK,
  MSG_AUDIO,
  MSG_COMMAND_AMF0,
  MSG_DATA_AMF0,
  MSG_USER_CONTROL,
  MSG_VIDEO,
  MSG_WINDOW_ACK_SIZE,
  USER_CONTROL_PING_REQUEST,
  USER_CONTROL_PING_RESPONSE,
} from '../media/rtmp/constants.js';
import { ClientHandshake } from '../media/rtmp/handshake.js';
import { parseRtmpUrl, type RtmpUrl, redactRtmpUrl } from '../media/rtmp/url.js';
import { forEachAggregateTag } from './flv-stream.js';
import { PlayerBase } from './player-base.js';
import type { ViewerOptions } from './types.js';

const MSG_AGGREGATE = 22;
const USER_CONTROL_SET_BUFFER_LENGTH = 3;

export class RtmpPlayer extends PlayerBase {
  readonly protocol = 'rtmp' as const;
  private readonly url: RtmpUrl | null;
  private socket: Socket | null = null;
  private handshake: ClientHandshake | null = null;
  private readonly reader = new ChunkReader((m) => this.onMessage(m));
  private readonly writer = new ChunkWriter();
  private connectTimer: NodeJS.Timeout | null = null;
  private ackWindow = 0;
  private lastAck = 0;
  private now = 0;

  constructor(options: ViewerOptions) {
    super(options);
    this.url = parseRtmpUrl(options.url);
  }

  protected open(): void {
    const url = this.url;
    if (!url) {
      this.fail('bad_url', 'not an rtmp://host[:port]/app/stream URL');
      return;
    }
    const socket = tcpConnect({
      host: url.host,
      port: url.port,
      noDelay: true,
      ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}),
    });
    this.socket = socket;
    const limit = this.options.connectTimeoutMs ?? 10_000;
    this.connectTimer = setTimeout(
      () => this.fail('connect_timeout', `no play start within ${limit} ms`),
      limit,
    );
    socket.once('connect', () => {
      this.handshake = new ClientHandshake();
      socket.write(this.handshake.start());
    });
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'unknown';
      if (code === 'ECONNREFUSED') this.fail('connect_refused', `cannot connect: ${code}`);
      else this.fail('socket_error', `socket error ${code}`);
    });
    socket.on('close', () => this.fail('closed', `server closed the connection (${redactRtmpUrl(url)})`));
  }

  protected release(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.reader.stop();
    this.socket?.destroy();
  }

  private onData(data: Buffer): void {
    this.received(data.length);
    this.now = Date.now();
    if (this.ackWindow > 0 && this.bytes - this.lastAck >= this.ackWindow) this.ack();
    if (this.handshake) {
      let step: ReturnType<ClientHandshake['push']>;
      try {
        step = this.handshake.push(data);
      } catch (e) {
        this.fail('handshake_failed', (e as Error).message);
        return;
      }
      if (step.reply) this.socket?.write(Buffer.from(step.reply));
      if (!step.rest) return;
      this.handshake = null;
      this.sendConnect();
      data = step.rest;
      if (data.length === 0) return;
    }
    try {
      this.reader.push(data);
    } catch (e) {
      if (!(e instanceof ChunkError)) throw e;
      this.fail('protocol_error', e.message);
    }
  }

  private ack(): void {
    this.lastAck = this.bytes;
    const body = Buffer.allocUnsafe(4);
    body.writeUInt32BE(this.bytes >>> 0, 0);
    this.socket?.write(this.writer.message(CSID_PROTOCOL, MSG_ACK, 0, 0, body));
  }

  private command(csid: number, streamId: number, values: Amf0Value[]): Buffer {
    return this.writer.message(csid, MSG_COMMAND_AMF0, streamId, 0, encodeAmf0(values));
  }

  private sendConnect(): void {
    const url = this.url as RtmpUrl;
    this.socket?.write(
      this.command(CSID_COMMAND, 0, [
        'connect',
        1,
        { app: url.app, flashVer: 'LNX 9,0,124,2', tcUrl: url.tcUrl, fpad: false, capabilities: 15 },
      ]),
    );
  }

  private onMessage(m: RtmpMessage): void {
    switch (m.type) {
      case MSG_VIDEO:
      case MSG_AUDIO:
      case MSG_DATA_AMF0:
        this.flvTag(m.type, m.timestamp, m.payload, this.now);
        return;
      case MSG_AGGREGATE:
        try {
          forEachAggregateTag(m.payload, m.timestamp, (type, ts, body) =>
            this.flvTag(type, ts, body, this.now),
          );
        } catch (e) {
          this.fail('protocol_error', (e as Error).message);
        }
        return;
      case MSG_WINDOW_ACK_SIZE:
        if (m.payload.length >= 4) this.ackWindow = m.payload.readUInt32BE(0);
        return;
      case MSG_USER_CONTROL:
        if (m.payload.length >= 6 && m.payload.readUInt16BE(0) === USER_CONTROL_PING_REQUEST) {
          const body = Buffer.allocUnsafe(6);
          body.writeUInt16BE(USER_CONTROL_PING_RESPONSE, 0);
          m.payload.copy(body, 2, 2, 6);
          this.socket?.write(this.writer.message(CSID_PROTOCOL, MSG_USER_CONTROL, 0, 0, body));
        }
        return;
      case MSG_COMMAND_AMF0:
        this.onCommand(m.payload);
        return;
      default:
        return;
    }
  }

  private onCommand(payload: Buffer): void {
    let values: Amf0Value[];
    try {
      values = decodeAmf0(payload);
    } catch {
      this.fail('protocol_error', 'undecodable AMF0 command from server');
      return;
    }
    const [name, txn] = values;
    if (name === '_error') {
      this.fail(
        'play_refused',
        `${txn === 1 ? 'connect' : 'createStream'} refused: ${statusCode(values[3])}`,
      );
    } else if (name === '_result' && txn === 1) {
      this.socket?.write(this.command(CSID_COMMAND, 0, ['createStream', 2, null]));
    } else if (name === '_result' && txn === 2) {
      const id = typeof values[3] === 'number' ? values[3] : 1;
      const buffer = Buffer.allocUnsafe(10);
      buffer.writeUInt16BE(USER_CONTROL_SET_BUFFER_LENGTH, 0);
      buffer.writeUInt32BE(id, 2);
      buffer.writeUInt32BE(this.options.bufferMs ?? 1000, 6);
      const stream = (this.url as RtmpUrl).stream;
      this.socket?.write(
        Buffer.concat([
          this.command(CSID_STREAM_COMMAND, id, ['play', 3, null, stream, -1000]),
          this.writer.message(CSID_PROTOCOL, MSG_USER_CONTROL, 0, 0, buffer),
        ]),
      );
    } else if (name === 'onStatus') {
      const code = statusCode(values[3]);
      if (code === 'NetStream.Play.Start' && this.connectTimer) {
        clearTimeout(this.connectTimer);
        this.connectTimer = null;
      } else if (levelOf(values[3]) === 'error') {
        this.fail('play_refused', `play refused: ${code}`);
      }
    }
  }
}

function statusCode(info: Amf0Value): string {
  if (info && typeof info === 'object' && !Array.isArray(info) && !(info instanceof Date)) {
    return typeof info.code === 'string' ? info.code : '_error';
  }
  return '_error';
}

function levelOf(info: Amf0Value): string | undefined {
  if (info && typeof info === 'object' && !Array.isArray(info) && !(info instanceof Date)) {
    return typeof info.level === 'string' ? info.level : undefined;
  }
  return undefined;
}
