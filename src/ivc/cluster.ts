// `ivtfarm ivc --processes N`: the reference platform in N child processes, each a whole platform
// on its own port (one process may open 20,000 files here: ~19k devices), behind one front that
// owns the admin API, `/api/stats` of the whole, the monitor page and the RTMP ingest. Devices
// connect to the children directly (no hop through the front); the farm spreads them over the
// children's URLs (`target:` with several URLs). docs/ivc.md explains the choice.

import { type ChildProcess, fork } from 'node:child_process';
import type { FromChild, ToChild } from './cluster-child.js';
import { type RunningFront, startFront } from './front.js';
import type { FrontChild } from './front-children.js';
import type { IvcOptions } from './options.js';

/** Most processes one front starts (each needs a core's share and a port). */
export const MAX_PROCESSES = 64;
/** A child that dies sooner than this after its start is not restarted: it would die again. */
const MIN_LIFETIME_MS = 5_000;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface RunningCluster extends RunningFront {
  /** The children's device endpoints, `ws://host:port/ivc`, in child order. */
  deviceUrls: string[];
  /** Resolves when a child died and could not be restarted (the platform is then incomplete). */
  failed: Promise<string>;
}

interface Child extends FrontChild {
  process: ChildProcess;
  startedAt: number;
}

/**
 * Starts `processes` platform children (ports `port+1…port+N` when `options.port` is set, else
 * free ones) and the front on `options.host:options.port`. A child that exits is restarted on its
 * port (its devices reconnect to the same URL), unless it died within 5 s of its start.
 */
export async function startIvcCluster(options: IvcOptions, processes: number): Promise<RunningCluster> {
  if (!Number.isInteger(processes) || processes < 1 || processes > MAX_PROCESSES)
    throw new Error(`processes must be an integer from 1 to ${MAX_PROCESSES} (got ${processes})`);
  const basePort = options.port ?? 0;
  if (basePort > 0 && basePort + processes > 65_535)
    throw new Error(`ports ${basePort + 1}–${basePort + processes} do not all exist`);
  const children: Child[] = [];
  const front = await startFront(options, () => children);
  const perChild: IvcOptions = {
    ...options,
    // The front runs the ingest: publish orders point there, whichever child sends them.
    rtmpIngest: undefined,
    rtmpUrlBase: options.rtmpUrlBase ?? front.rtmpUrl ?? undefined,
    maxDevices: options.maxDevices === undefined ? undefined : Math.ceil(options.maxDevices / processes),
  };
  let closing = false;
  let reportFailure: (why: string) => void = () => {};
  const failed = new Promise<string>((resolve) => {
    reportFailure = resolve;
  });

  const launch = async (index: number, port: number): Promise<Child> => {
    const child = fork(new URL('./cluster-child.js', import.meta.url), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const started = await new Promise<FromChild & { type: 'listening' }>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`platform process ${index} did not start within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      child.once('message', (message: FromChild) => {
        clearTimeout(timer);
        if (message.type === 'listening') resolve(message);
        else reject(new Error(`platform process ${index}: ${message.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`platform process ${index} exited with code ${code} while starting`));
      });
      child.send({ type: 'start', options: { ...perChild, port } } satisfies ToChild);
    });
    const entry: Child = {
      index,
      process: child,
      startedAt: Date.now(),
      url: started.url,
      httpUrl: started.httpUrl,
      port: started.port,
      pid: child.pid ?? 0,
      restarts: 0,
    };
    child.once('exit', (code, signal) => void childExited(entry, code, signal));
    return entry;
  };

  const childExited = async (entry: Child, code: number | null, signal: string | null): Promise<void> => {
    if (closing || children[entry.index] !== entry) return;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (Date.now() - entry.startedAt < MIN_LIFETIME_MS) {
      reportFailure(
        `platform process ${entry.index} (${entry.url}) exited with ${how} within 5 s of its start`,
      );
      return;
    }
    process.stderr.write(
      `platform process ${entry.index} (${entry.url}) exited with ${how}; restarting it\n`,
    );
    try {
      const again = await launch(entry.index, entry.port);
      again.restarts = entry.restarts + 1;
      children[entry.index] = again;
    } catch (error) {
      reportFailure(`platform process ${entry.index} could not be restarted: ${(error as Error).message}`);
    }
  };

  const stopChildren = async (): Promise<void> => {
    closing = true;
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.process.exitCode !== null || c.process.signalCode !== null) {
              resolve();
              return;
            }
            const timer = setTimeout(() => c.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
            c.process.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (c.process.connected) c.process.send({ type: 'stop' } satisfies ToChild);
            else c.process.kill('SIGTERM');
          }),
      ),
    );
  };

  try {
    // All at once; with fixed ports, a taken one is named by the child that could not bind it.
    const started = await Promise.allSettled(
      Array.from({ length: processes }, (_, i) => launch(i, basePort > 0 ? basePort + 1 + i : 0)),
    );
    for (const s of started) if (s.status === 'fulfilled') children.push(s.value);
    const refused = started.find((s) => s.status === 'rejected');
    if (refused) throw refused.reason;
    return {
      ...front,
      deviceUrls: children.map((c) => c.url),
      failed,
      close: async () => {
        await front.close();
        await stopChildren();
      },
    };
  } catch (error) {
    await front.close();
    await stopChildren();
    throw error;
  }
}
