// Typed publish failures. `reason` is the stable code the farm counts; messages never carry the
// stream name's query string (it may hold a token).

export type RtmpFailureReason =
  /** The URL is not rtmp://host[:port]/app/stream. */
  | 'bad_url'
  /** TCP connect refused or unreachable. */
  | 'connect_refused'
  /** TCP connect did not complete in time. */
  | 'connect_timeout'
  /** The handshake did not complete in time. */
  | 'handshake_timeout'
  /** The server answered the handshake with something invalid. */
  | 'handshake_failed'
  /** `connect` answered with `_error` (e.g. NetConnection.Connect.Rejected). */
  | 'connect_rejected'
  /** `publish` refused with NetStream.Publish.BadName (name in use or not allowed). */
  | 'bad_name'
  /** `publish` or `createStream` refused otherwise (onStatus level error, `_error`). */
  | 'publish_refused'
  /** No NetStream.Publish.Start in time after `connect`. */
  | 'publish_timeout'
  /** The server closed the connection. */
  | 'closed'
  /** A socket error (reset, ...). */
  | 'socket_error'
  /** The server sent bytes we cannot parse. */
  | 'protocol_error'
  /** The rendition file could not be loaded (publisher pool). */
  | 'media_error';

export type RtmpPhase = 'connect' | 'handshake' | 'publish' | 'streaming';

export class RtmpPublishError extends Error {
  override name = 'RtmpPublishError';

  constructor(
    readonly reason: RtmpFailureReason,
    readonly phase: RtmpPhase,
    message: string,
    /** Server status code when there is one, e.g. `NetStream.Publish.BadName`. */
    readonly statusCode?: string,
  ) {
    super(message);
  }
}
