// Parses rtmp://host[:port]/app[/inst...]/stream[?args] the way FFmpeg and OBS split it:
// every path segment but the last is the app, the last segment (with any query) is the stream name.

export interface RtmpUrl {
  readonly host: string;
  readonly port: number;
  /** Application name, e.g. `live` or `live/inst`. */
  readonly app: string;
  /** Stream (publish) name including a `?query`, which servers use for tokens. */
  readonly stream: string;
  /** `rtmp://host[:port]/app`, sent as tcUrl in `connect`. */
  readonly tcUrl: string;
}

export const DEFAULT_RTMP_PORT = 1935;

export function parseRtmpUrl(url: string): RtmpUrl | null {
  const m = /^rtmp:\/\/(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?\/([^?#]*)(\?[^#]*)?$/i.exec(url);
  if (!m) return null;
  const host = (m[1] as string).replace(/^\[|\]$/g, '');
  const port = m[2] ? Number(m[2]) : DEFAULT_RTMP_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  const segments = (m[3] as string).split('/').filter((s) => s.length > 0);
  if (segments.length < 2) return null;
  const stream = `${segments[segments.length - 1]}${m[4] ?? ''}`;
  const app = segments.slice(0, -1).join('/');
  const hostPart = m[1] as string;
  return {
    host,
    port,
    app,
    stream,
    tcUrl: `rtmp://${hostPart}${m[2] ? `:${port}` : ''}/${app}`,
  };
}

/** The URL without the stream name's query (which may carry a token): safe for logs and errors. */
export function redactRtmpUrl(u: RtmpUrl): string {
  const q = u.stream.indexOf('?');
  return `${u.tcUrl}/${q >= 0 ? u.stream.slice(0, q) : u.stream}`;
}
