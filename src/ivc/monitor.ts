import type { WebSocket } from 'ws';
import { CommandError, IvcCommands } from './commands.js';
import type { Severity } from './conformance.js';
import type { DeviceRecord } from './device-record.js';
import type { IvcPlatform } from './platform.js';

/** A watcher that reads slower than packets flow loses messages past this backlog, not memory. */
const MAX_BACKLOG = 1024 * 1024;

/** What a person's page may send on the monitor socket. */
interface PageCommand {
  type: 'send';
  text: string;
  /** Send the text as is, even when it is not a valid packet. */
  raw?: boolean;
}

/**
 * The live view of watched devices for the web page (`/monitor?login_code=X`): every packet in
 * both directions, status changes and violations. Sessions of unwatched devices have no tap at
 * all, so watching costs nothing for the other 10k devices.
 */
export class MonitorHub {
  private readonly watchers = new Map<string, Set<WebSocket>>();
  private readonly commands: IvcCommands;
  dropped = 0;

  constructor(private readonly platform: IvcPlatform) {
    this.commands = new IvcCommands(platform);
  }

  isWatched(loginCode: string): boolean {
    return this.watchers.has(loginCode);
  }

  attach(ws: WebSocket, loginCode: string): void {
    let set = this.watchers.get(loginCode);
    if (!set) {
      set = new Set();
      this.watchers.set(loginCode, set);
      this.platform.sessions.get(loginCode)?.setTap(true);
    }
    set.add(ws);
    const record = this.platform.devices.get(loginCode);
    this.sendTo(ws, { type: 'hello', login_code: loginCode, device: record ? record.toJSON() : null });
    ws.on('message', (data) => void this.onCommand(ws, loginCode, data.toString()));
    ws.on('error', () => {});
    ws.on('close', () => {
      set.delete(ws);
      if (set.size === 0 && this.watchers.get(loginCode) === set) {
        this.watchers.delete(loginCode);
        this.platform.sessions.get(loginCode)?.setTap(false);
      }
    });
  }

  packet(loginCode: string, direction: 'in' | 'out', text: string): void {
    this.broadcast(loginCode, { type: 'packet', at: new Date().toISOString(), dir: direction, text });
  }

  status(record: DeviceRecord): void {
    if (this.watchers.has(record.loginCode))
      this.broadcast(record.loginCode, { type: 'status', device: record.toJSON() });
  }

  violation(loginCode: string, rule: string, detail: string, severity: Severity): void {
    if (this.watchers.has(loginCode)) {
      this.broadcast(loginCode, { type: 'violation', at: new Date().toISOString(), rule, detail, severity });
    }
  }

  close(): void {
    for (const set of this.watchers.values()) for (const ws of set) ws.close(1001, 'platform shutting down');
    this.watchers.clear();
  }

  private async onCommand(ws: WebSocket, loginCode: string, message: string): Promise<void> {
    let command: PageCommand;
    try {
      command = JSON.parse(message) as PageCommand;
      if (command.type !== 'send' || typeof command.text !== 'string') throw new Error('bad command');
    } catch {
      this.sendTo(ws, {
        type: 'error',
        message: 'monitor commands are {"type":"send","text":"...","raw":false}',
      });
      return;
    }
    try {
      if (command.raw) {
        this.commands.raw(loginCode, command.text);
        return;
      }
      let packet: { req?: unknown; event?: unknown; params?: unknown };
      try {
        packet = JSON.parse(command.text);
      } catch {
        throw new CommandError(400, 'not JSON (tick "send as is" to send malformed text)');
      }
      if (packet && typeof packet.req === 'string') {
        // The platform assigns the seq; the answer reaches the page through the packet tap.
        await this.commands.rpc(loginCode, packet.req, packet.params, { validate: false });
      } else if (packet && typeof packet.event === 'string') {
        this.commands.event(loginCode, packet.event, packet.params, { validate: false });
      } else {
        throw new CommandError(400, 'expected {"req": ..., "params": ...} or {"event": ..., "params": ...}');
      }
    } catch (error) {
      this.sendTo(ws, { type: 'error', message: (error as Error).message });
    }
  }

  private broadcast(loginCode: string, message: Record<string, unknown>): void {
    const set = this.watchers.get(loginCode);
    if (!set) return;
    const text = JSON.stringify(message);
    for (const ws of set) this.sendText(ws, text);
  }

  private sendTo(ws: WebSocket, message: Record<string, unknown>): void {
    this.sendText(ws, JSON.stringify(message));
  }

  private sendText(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BACKLOG) {
      this.dropped++;
      return;
    }
    ws.send(text);
  }
}
