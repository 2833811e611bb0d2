// What every player (RTMP play, HTTP-FLV, HLS) shares: its protocol, failure reasons, observer
// hooks and figures. A player never decodes: it reads container framing, the stream clock and
// byte counts (see docs/viewers.md).

export type ViewerProtocol = 'rtmp' | 'http-flv' | 'hls';
export const VIEWER_PROTOCOLS: readonly ViewerProtocol[] = ['rtmp', 'http-flv', 'hls'];

/** The protocol a URL implies, or null when it implies none. */
export function protocolOf(url: string): ViewerProtocol | null {
  if (/^rtmp:\/\//i.test(url)) return 'rtmp';
  if (/^http:\/\/[^?#]*\.m3u8([?#]|$)/i.test(url)) return 'hls';
  if (/^http:\/\//i.test(url)) return 'http-flv';
  return null;
}

export type ViewerFailureReason =
  /** The URL does not fit the protocol. */
  | 'bad_url'
  | 'connect_refused'
  | 'connect_timeout'
  /** RTMP handshake broken or not answered in time. */
  | 'handshake_failed'
  /** RTMP connect/createStream/play answered with an error. */
  | 'play_refused'
  /** HTTP status other than 200 (playlist, segment or FLV stream). */
  | 'http_status'
  /** No key frame arrived within firstFrameTimeoutMs. */
  | 'no_media'
  /** The server ended the stream or closed the connection. */
  | 'closed'
  /** Bytes we cannot parse (RTMP chunks, FLV, TS, playlist). */
  | 'protocol_error'
  | 'socket_error';

export class ViewerError extends Error {
  override name = 'ViewerError';
  constructor(
    readonly reason: ViewerFailureReason,
    readonly protocol: ViewerProtocol,
    message: string,
  ) {
    super(message);
  }
}

export interface ViewerStats {
  readonly protocol: ViewerProtocol;
  readonly state: 'idle' | 'connecting' | 'playing' | 'closed' | 'failed';
  /** Start → first key frame received, ms (null before it). */
  readonly ttffMs: number | null;
  readonly stalls: number;
  /** Sum of stall durations, ms. */
  readonly stallMs: number;
  /** Every byte received (protocol overhead, playlists and headers included). */
  readonly bytes: number;
  readonly videoFrames: number;
  readonly keyFrames: number;
  /** Key frames that carried the stream clock. */
  readonly clocks: number;
  /** Last and largest end-to-end delay (receive time − stream clock), ms; null before a clock. */
  readonly delayLastMs: number | null;
  readonly delayMaxMs: number | null;
  /** FLV script-data messages other than onMetaData (RTMP/HTTP-FLV), for what a server relays. */
  readonly scriptMessages: number;
  /** bytes × 8 / time since the first frame, bit/s. */
  readonly bitrate: number;
  readonly elapsedMs: number;
}

export interface ViewerObserver {
  /** First key frame received: time to first frame, ms. */
  onFirstFrame?(ttffMs: number): void;
  /** A stall ended (the playout buffer ran dry and refilled): its duration, ms. */
  onStall?(durationMs: number): void;
  /** One end-to-end delay sample (receive time − stream clock), ms. */
  onDelay?(delayMs: number): void;
  /** Bytes received since the last call. */
  onBytes?(bytes: number): void;
  onFailure?(error: ViewerError): void;
  onEnd?(stats: ViewerStats): void;
}

export interface ViewerOptions {
  url: string;
  observer?: ViewerObserver;
  /**
   * Playout buffer: playback starts this long after the first key frame arrived, and again this
   * long after a stall (default 1000 ms). See playout.ts.
   */
  bufferMs?: number;
  connectTimeoutMs?: number;
  /** Start → first key frame (default 20000 ms); past it the player fails with `no_media`. */
  firstFrameTimeoutMs?: number;
  /** Local source address (spreads sockets over 127.0.0.x in load tests). */
  localAddress?: string;
}

export interface Viewer {
  readonly protocol: ViewerProtocol;
  /** Resolves at the first key frame; rejects with ViewerError. */
  start(): Promise<void>;
  /** Closes the connection; an ongoing stall is counted. Idempotent. */
  stop(): Promise<void>;
  /** Settles when the player is over: null after stop(), the error after a failure. */
  readonly closed: Promise<ViewerError | null>;
  stats(): ViewerStats;
}
