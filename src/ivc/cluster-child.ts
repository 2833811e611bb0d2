// One platform process of `ivtfarm ivc --processes N` (forked by cluster.ts, IPC with advanced
// serialization): runs a whole reference platform on its own port for the devices that connect
// to it, and answers the front's admin API calls over loopback HTTP. Options, secrets included,
// come over the IPC channel, never the command line or the environment.

import { setFlagsFromString } from 'node:v8';
import type { IvcOptions } from './options.js';
import { type RunningIvc, startIvc } from './server.js';

/** Front → child. */
export type ToChild = { type: 'start'; options: IvcOptions } | { type: 'stop' };

/** Child → front. */
export type FromChild =
  | { type: 'listening'; url: string; httpUrl: string; port: number }
  | { type: 'failed'; message: string };

// A long-lived service any client can make allocate, as `ivtfarm ivc` itself (cli.ts).
setFlagsFromString('--optimize-for-size');

const send = (message: FromChild) => process.send?.(message);
let running: RunningIvc | null = null;

async function stop(): Promise<void> {
  await running?.close();
  process.exit(0);
}

process.on('message', (message: ToChild) => {
  if (message.type === 'stop') {
    void stop();
    return;
  }
  startIvc(message.options).then(
    (ivc) => {
      running = ivc;
      send({ type: 'listening', url: ivc.url, httpUrl: ivc.httpUrl, port: ivc.port });
    },
    (error: Error) => {
      send({ type: 'failed', message: error.message });
      process.exit(1);
    },
  );
});
// The front went away without saying stop (killed): nothing is left to serve.
process.on('disconnect', () => void stop());
process.on('SIGINT', () => {}); // a terminal's Ctrl-C goes to the whole group: the front decides
