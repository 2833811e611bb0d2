import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Closes connections that have not sent a whole request head (nor completed a WebSocket upgrade)
 * within `timeoutMs` of connecting: idle sockets that never send a byte and slow request heads
 * alike. Node's own `headersTimeout` only starts at a request's first byte; this covers the
 * time before it. One sweep for all connections, no timer per socket.
 */
export class HandshakeDeadline {
  private readonly pending = new Map<Socket, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    server: Server,
    private readonly timeoutMs: number,
    private readonly onTimeout: () => void,
  ) {
    server.on('connection', (socket: Socket) => {
      this.pending.set(socket, Date.now());
      socket.once('close', () => this.pending.delete(socket));
    });
    // A request head arrived, or an upgrade did (the platform then owns the socket).
    server.on('request', (req: { socket: Socket }) => this.pending.delete(req.socket));
    server.prependListener('upgrade', (req: { socket: Socket }) => this.pending.delete(req.socket));
    this.timer = setInterval(() => this.sweep(), Math.max(20, Math.min(1000, timeoutMs / 4)));
    this.timer.unref();
  }

  /** Connections still waiting for their first request head. */
  get size(): number {
    return this.pending.size;
  }

  close(): void {
    clearInterval(this.timer);
    this.pending.clear();
  }

  private sweep(): void {
    const expired = Date.now() - this.timeoutMs;
    // Oldest first (insertion order): stop at the first one still in time.
    for (const [socket, connectedAt] of this.pending) {
      if (connectedAt > expired) return;
      this.pending.delete(socket);
      // Node's own headersTimeout may have answered it (408) a moment before: counted there.
      if (socket.destroyed || socket.writableEnded) continue;
      socket.destroy();
      this.onTimeout();
    }
  }
}
