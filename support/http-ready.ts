// Waits for an HTTP server that starts in its own time (nginx's HLS output, a player's source).
import { request } from 'node:http';
import { eventually } from './eventually.js';

function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Resolves once `url` answers 200; fails after `timeoutMs`. */
export async function waitForHttp200(url: string, timeoutMs: number): Promise<void> {
  await eventually(`${url} to answer 200`, async () => (await statusOf(url)) === 200, timeoutMs, 200);
}
