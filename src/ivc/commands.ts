import { randomBytes } from 'node:crypto';
import type { AnswerPacket } from '../protocol/envelope.js';
import type { Quality, StartCloudRecordParams } from '../protocol/methods.js';
import { PeerClosedError } from '../protocol/peer.js';
import { checkParams, ivtEventValidators, ivtMethodValidators } from '../protocol/validators.js';
import type { DeviceRecord } from './device-record.js';
import type { DeviceListener, IvcPlatform } from './platform.js';
import type { DeviceSession } from './session.js';

/** A command could not be carried out; `status` is the admin API's HTTP status for it. */
export class CommandError extends Error {
  constructor(
    readonly status: 400 | 404 | 502 | 504,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface SendOptions {
  /** Check method/event name and params against the IVT schemas first (default true). */
  validate?: boolean;
}

export interface PublishOrder {
  channel: number;
  quality: Quality;
  /** Default: a fresh random id. */
  streamId?: string;
  /** Default: `<rtmpUrlBase>/<streamId>`. */
  url?: string;
  /** bit/s, 0 = no limit (default 0). */
  maxBitrate?: number;
}

export type RecordOrder = Partial<Omit<StartCloudRecordParams, 'channel'>> & { channel: number };

/**
 * The RTMP stream name under which a stream id arrives at the ingest: the id URL-encoded, as it
 * stands in the publish URL (any Unicode or `/?#%` survives the trip). Look streams up by this.
 */
export function ingestStreamName(streamId: string): string {
  return encodeURIComponent(streamId);
}

/**
 * What a coordinator (or a person, through the admin API and the web page) orders devices to do:
 * the one code path from "publish channel c of device d" to the device's answer packet.
 */
export class IvcCommands {
  constructor(private readonly platform: IvcPlatform) {}

  /** Calls `method` on a device and resolves with its answer packet as is (`{seq,resp}` or `{seq,err}`). */
  async rpc(
    loginCode: string,
    method: string,
    params?: unknown,
    options: SendOptions = {},
  ): Promise<AnswerPacket> {
    if (options.validate ?? true) {
      if (!ivtMethodValidators.has(method)) throw new CommandError(400, `unknown device method "${method}"`);
      const why = checkParams(ivtMethodValidators, method, params);
      if (why) throw new CommandError(400, `invalid params for ${method}: ${why}`);
    }
    const session = this.sessionOf(loginCode);
    // A recording exists on this platform only once it has ordered it (whoever asked: farm, API, page).
    const recordSession = (params as { session_id?: unknown } | null | undefined)?.session_id;
    if (method === 'StartCloudRecord' && typeof recordSession === 'string')
      this.platform.recordings.expect(recordSession, loginCode);
    try {
      const answer = await session.call(method, params);
      if ('resp' in answer) this.remember(session.record, method, params);
      return answer;
    } catch (error) {
      if (error instanceof PeerClosedError) {
        if (error.info.reason === 'timeout') {
          throw new CommandError(
            504,
            `device ${loginCode} did not answer ${method} in time (${error.info.detail})`,
          );
        }
        throw new CommandError(
          502,
          `device ${loginCode} disconnected before answering ${method}: ${error.message}`,
        );
      }
      throw error;
    }
  }

  /** What the next Keepalive should show after an accepted order (session.ts checks it once). */
  private remember(record: DeviceRecord, method: string, params: unknown): void {
    const p = params as { channel?: unknown; stream_id?: unknown; session_id?: unknown };
    if (typeof p?.channel !== 'number') return;
    if (method === 'RTMPPublish' && typeof p.stream_id === 'string' && p.stream_id !== '') {
      record.publishOrders ??= new Map();
      record.publishOrders.set(p.channel, p.stream_id);
    } else if (method === 'StopCloudRecord' && typeof p.session_id === 'string') {
      record.stoppedRecordings ??= new Set();
      record.stoppedRecordings.add(p.session_id);
    }
  }

  /**
   * StartCloudRecord params with the defaults of `startCloudRecord` for what `order` leaves out
   * (an admin API order may give just the channel): the platform's own `cbk_url` included.
   */
  recordParams(order: RecordOrder): StartCloudRecordParams {
    // 22 bytes, as the document specifies for session_id.
    const sessionId = order.session_id ?? randomBytes(11).toString('hex');
    return {
      session_id: sessionId,
      channel: order.channel,
      quality: order.quality ?? 'sd',
      max_bitrate: order.max_bitrate ?? 0,
      seg_duration: order.seg_duration ?? 10,
      seg_max_size: order.seg_max_size ?? 16 * 1024 * 1024,
      seg_max_count: order.seg_max_count ?? 4,
      prerecord_seconds: order.prerecord_seconds ?? 0,
      start_ts: order.start_ts ?? 0,
      cbk_url: order.cbk_url ?? this.platform.recordCallbackUrl(sessionId),
    };
  }

  /** Sends an event to a device (no answer exists). */
  event(loginCode: string, event: string, params?: unknown, options: SendOptions = {}): void {
    if (options.validate ?? true) {
      if (!ivtEventValidators.has(event)) throw new CommandError(400, `unknown device event "${event}"`);
      const why = checkParams(ivtEventValidators, event, params);
      if (why) throw new CommandError(400, `invalid params for ${event}: ${why}`);
    }
    this.sessionOf(loginCode).peer.sendEvent(event, params);
    this.platform.stats.eventsSent++;
  }

  /** Sends text as is (to see how a device handles a malformed packet). */
  raw(loginCode: string, text: string): void {
    this.sessionOf(loginCode).peer.sendRaw(text);
  }

  /** Closes a device's connection; false when it was not online. */
  kick(loginCode: string): boolean {
    const session = this.platform.sessions.get(loginCode);
    if (!session) return false;
    session.peer.close('local', 'kicked by the platform');
    return true;
  }

  /** Orders an RTMP publish; resolves with the stream id and url used, and the answer packet. */
  async publish(
    loginCode: string,
    order: PublishOrder,
  ): Promise<{ streamId: string; url: string; answer: AnswerPacket }> {
    const streamId = order.streamId ?? `${loginCode}-${order.channel}-${randomBytes(4).toString('hex')}`;
    let url = order.url;
    if (url === undefined) {
      if (!this.platform.options.rtmpUrlBase)
        throw new CommandError(400, 'no rtmpUrlBase configured and no url given');
      url = `${this.platform.options.rtmpUrlBase}/${ingestStreamName(streamId)}`;
    }
    const answer = await this.rpc(loginCode, 'RTMPPublish', {
      channel: order.channel,
      quality: order.quality,
      url,
      stream_id: streamId,
      max_bitrate: order.maxBitrate ?? 0,
    });
    return { streamId, url, answer };
  }

  stopPublish(loginCode: string, channel: number, streamId: string): Promise<AnswerPacket> {
    return this.rpc(loginCode, 'RTMPStopPublish', { channel, stream_id: streamId });
  }

  /**
   * Orders a cloud recording whose segments come back to this platform's `/record/<session>`
   * endpoint (unless `cbk_url` is given; `ivr://` unless the platform's `recordUrlScheme` is http). Defaults: sd, 10 s segments, no pre-recording.
   */
  async startCloudRecord(
    loginCode: string,
    order: RecordOrder,
  ): Promise<{ sessionId: string; answer: AnswerPacket }> {
    const params = this.recordParams(order);
    const answer = await this.rpc(loginCode, 'StartCloudRecord', params);
    return { sessionId: params.session_id, answer };
  }

  stopCloudRecord(loginCode: string, channel: number, sessionId: string): Promise<AnswerPacket> {
    return this.rpc(loginCode, 'StopCloudRecord', { channel, session_id: sessionId });
  }

  /** Devices connected now (the record of each; iterate lazily, 10k devices need no copy). */
  *devicesOnline(): IterableIterator<DeviceRecord> {
    for (const session of this.platform.sessions.values()) yield session.record;
  }

  /** Called on the first Keepalive of each connection (the device is online, its channels known). */
  onDeviceOnline(listener: DeviceListener): () => void {
    return this.platform.onDeviceOnline(listener);
  }

  onDeviceOffline(listener: DeviceListener): () => void {
    return this.platform.onDeviceOffline(listener);
  }

  private sessionOf(loginCode: string): DeviceSession {
    const session = this.platform.sessions.get(loginCode);
    if (!session) throw new CommandError(404, `device ${loginCode} is not online`);
    return session;
  }
}
