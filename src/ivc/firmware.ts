import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-util.js';
import type { IvcPlatform } from './platform.js';

/** One shared block of pattern bytes, written repeatedly: a firmware blob costs no memory per download. */
const BLOCK = Buffer.alloc(64 * 1024, 'IVC-FIRMWARE-BLOB-');

/** `GET /firmware/<name>`: a generated blob of the catalogue entry's size. */
export function serveFirmware(
  platform: IvcPlatform,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const entry = platform.options.firmware.find((f) => f.name === name);
  if (!entry) {
    sendJson(res, 404, { error: `no firmware ${name}` });
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': entry.size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  platform.stats.firmwareDownloads++;
  let left = entry.size;
  const write = (): void => {
    while (left > 0) {
      const n = Math.min(left, BLOCK.length);
      left -= n;
      if (!res.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) {
        res.once('drain', write);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    left = 0;
  });
  write();
}
