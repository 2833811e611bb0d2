// Plain clients of the reference platform for the hardening tests and bench: device logins that
// send hand-made packets, raw TCP sockets, and HTTP requests with headers fetch() will not set.
import { type Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';

/** The device endpoint's login URL. */
export function loginUrl(base: string, loginCode: string, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({
    login_code: loginCode,
    login_passwd: 'pw',
    hardware_model: 'HW-1',
    firmware_model: 'FW-1',
    ...extra,
  });
  return `${base}?${q}`;
}

/** Resolves with the open WebSocket, or with the HTTP status of a refused upgrade. */
export function openSocket(
  url: string,
  options: { headers?: Record<string, string>; origin?: string; localAddress?: string } = {},
): Promise<WebSocket | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

/** A Keepalive request packet with `count` channels (about 28 bytes each). */
export function keepaliveText(seq: number, count: number): string {
  const channels = Array.from({ length: count }, (_, i) => ({ channel: i, state: 1 }));
  return JSON.stringify({ req: 'Keepalive', seq, params: { state: 1, channels } });
}

/** Sends one text message and resolves with the next message received. */
export function exchange(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(data.toString()));
    ws.once('close', () => reject(new Error('closed before answering')));
    ws.send(text);
  });
}

/** Resolves with the close code and reason once the socket is closed. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve({ code: 1006, reason: '' });
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

/** A TCP connection to the platform that never sends a byte; resolves once connected. */
export function idleSocket(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => {
      // The platform may reset it later: that is what the tests wait for, not an error.
      socket.on('error', () => {});
      // Whatever the platform answers is read and dropped, so its end (and close) is seen.
      socket.resume();
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** An HTTP request with any headers (Host and Origin included); resolves with status, headers, body. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; agent?: Agent },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: options.agent },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    // An accepted WebSocket upgrade (when the headers asked for one) is a 101 with no body.
    req.once('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, headers: res.headers, body: '' });
    });
    req.once('error', reject);
    req.end(options.body);
  });
}
