import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { refuseUpgrade } from './http-util.js';
import type { IvcPlatform } from './platform.js';

const REQUIRED = ['login_code', 'login_passwd', 'hardware_model', 'firmware_model'] as const;

/**
 * A device's `GET /ivc?login_code=…&login_passwd=…&hardware_model=…&firmware_model=…` upgrade:
 * refused with a plain HTTP status (400 missing fields, 401 bad credentials, 403 disabled,
 * 503 over `maxDevices`) before any WebSocket exists, or accepted into a session.
 */
export function handleDeviceUpgrade(
  platform: IvcPlatform,
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  query: URLSearchParams,
): void {
  socket.on('error', () => {});
  const refuse = (status: number, message: string) => {
    platform.stats.refuse(status);
    refuseUpgrade(socket, status, message);
  };
  const missing = REQUIRED.filter((name) => !query.get(name));
  if (missing.length > 0) {
    refuse(400, `missing query field${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
    return;
  }
  const loginCode = query.get('login_code')!;
  const maxString = platform.options.limits.maxStringLength;
  if (loginCode.length > maxString) {
    // No record is made for it: the count is platform-wide only.
    platform.stats.violations.limit_string = (platform.stats.violations.limit_string ?? 0) + 1;
    refuse(400, `login_code longer than ${maxString} characters`);
    return;
  }
  // The password is only handed to the checker; it is never stored, logged or echoed.
  const decision = platform.checker.check(loginCode, query.get('login_passwd')!);
  if (!decision.ok) {
    refuse(decision.status, decision.reason);
    return;
  }
  const accept = () => {
    if (socket.destroyed) return;
    if (!platform.hasRoomFor(loginCode)) {
      refuse(503, `device limit reached (${platform.options.maxDevices} online)`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const hardwareModel = query.get('hardware_model')!;
      const firmwareModel = query.get('firmware_model')!;
      const session = platform.attach(
        {
          loginCode,
          hardwareModel: hardwareModel.slice(0, maxString),
          firmwareModel: firmwareModel.slice(0, maxString),
          remoteAddress: `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`,
        },
        ws,
      );
      if (hardwareModel.length > maxString || firmwareModel.length > maxString)
        session.violation('limit_string', `hardware_model or firmware_model over ${maxString} characters`);
    });
  };
  if (platform.options.loginDelayMs > 0) setTimeout(accept, platform.options.loginDelayMs);
  else accept();
}
