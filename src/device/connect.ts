import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { type DeviceTls, defaultLimits } from './config.js';
import type { LoginFailure } from './observer.js';

/** The login URL of IVR-RPC.md "Transport and login", every value URL-encoded. */
export function loginUrl(
  base: string,
  loginCode: string,
  password: string,
  hardwareModel: string,
  firmwareModel: string,
): string {
  const sep = base.includes('?') ? '&' : '?';
  return (
    `${base}${sep}login_code=${encodeURIComponent(loginCode)}` +
    `&login_passwd=${encodeURIComponent(password)}` +
    `&hardware_model=${encodeURIComponent(hardwareModel)}` +
    `&firmware_model=${encodeURIComponent(firmwareModel)}`
  );
}

const caFiles = new Map<string, string>();

/** One CA text per file for the whole thread, not one per device; throws when unreadable. */
export function caFromFile(path: string): string {
  let ca = caFiles.get(path);
  if (ca === undefined) {
    ca = readFileSync(path, 'utf8');
    caFiles.set(path, ca);
  }
  return ca;
}

export interface OpenOptions {
  localAddress: string | undefined;
  tls: DeviceTls | undefined;
  /** ws's `maxPayload`: a larger message is refused before it is buffered (default 4 MiB). */
  maxMessageBytes?: number;
}

/**
 * Opens the device's WebSocket. Compression is off: permessage-deflate costs ~100 KB per
 * connection and the packets are tiny. No `handshakeTimeout` here: ws would leave a Timeout
 * object on every socket for its whole life; the device times the upgrade on the shared scheduler.
 */
export function openSocket(url: string, options: OpenOptions): WebSocket {
  const tls = options.tls;
  return new WebSocket(url, {
    perMessageDeflate: false,
    maxPayload: options.maxMessageBytes ?? defaultLimits.maxMessageBytes,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    ...(tls?.caFile ? { ca: caFromFile(tls.caFile) } : tls?.ca ? { ca: tls.ca } : {}),
    ...(tls?.insecure ? { rejectUnauthorized: false } : {}),
  });
}

/** The error ws emits when a message exceeds `maxPayload` (it then closes with 1009). */
export function isMessageTooLarge(error: Error): boolean {
  return (error as NodeJS.ErrnoException).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
}

const tlsCodes =
  /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_OSSL|HOSTNAME_MISMATCH)/;
const networkCodes = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EADDRINUSE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Sorts an upgrade failure into the observer's categories (never echoes the URL: it holds the password). */
export function classifyLoginError(error: unknown): LoginFailure {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  const status = /^Unexpected server response: (\d{3})/.exec(message);
  if (status) return { kind: 'refused', status: Number(status[1]) };
  if (code === 'ECONNREFUSED') return { kind: 'failed', reason: 'connection_refused' };
  if (tlsCodes.test(code) || /certificate|TLS|SSL/i.test(message)) return { kind: 'failed', reason: 'tls' };
  if (networkCodes.has(code) || message === 'socket hang up') return { kind: 'failed', reason: 'network' };
  return { kind: 'failed', reason: 'other' };
}

/**
 * A masked client close frame whose payload is close code 0 — invalid (RFC 6455 7.4): what the
 * vendor firmware sends when it closes. A platform's WebSocket library answers it with 1002.
 */
const MALFORMED_CLOSE_FRAME = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0, 0]);

/** Writes the vendor's malformed close frame on the connection's TCP socket. */
export function writeMalformedClose(raw: { write(data: Uint8Array): boolean }): void {
  raw.write(MALFORMED_CLOSE_FRAME);
}
