// `ivtfarm agent`: joins a controller, runs the slice of the device plan it is handed on its own
// worker threads (the same FleetWorkers as a local run) and streams their metric deltas back,
// buckets included. It stops when the controller says so, or when the controller is gone.

import { appendFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import WebSocket from 'ws';
import { shardShare } from '../farm/plan.js';
import type { ProgressDisplay } from '../farm/progress.js';
import { ensureLadder } from '../media/build.js';
import type { MetricsDelta } from '../metrics/delta.js';
import { startMainMetrics } from '../run/main-metrics.js';
import { StopSignal } from '../run/stop.js';
import { FleetWorkers, roundRobin } from '../run/workers.js';
import {
  AGENT_PATH,
  type AgentInit,
  CLOSE_REFUSED,
  type FromAgent,
  type ToAgent,
  toWire,
} from './protocol.js';

const CONTROLLER_SILENCE_MS = 30_000;

export interface AgentOptions {
  /** ws://host:port of the controller (the /agents path is added when missing). */
  controller: string;
  token: string;
  /** The slice to ask for (a Kubernetes completion index); null: any free one. */
  slice: number | null;
  workers: number | null;
  /** Keep trying to reach the controller for this long (it may start after the agents). */
  connectTimeoutMs: number;
  /** Append every delta sent, as JSON lines (audits and the exact-merge test). */
  recordDeltas: string | null;
  progress: ProgressDisplay;
}

/** The agent could not take part: the message is for the person at the terminal. */
export class AgentError extends Error {
  override name = 'AgentError';
}

/** Runs until the controller stops the run; resolves with the process exit code. */
export async function runAgent(options: AgentOptions): Promise<number> {
  const ws = await connect(options);
  const { progress } = options;
  const send = (message: FromAgent) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };
  send({ type: 'hello', slice: options.slice, host: hostname() });
  let fleet = null as FleetWorkers | null;
  let processMetrics = null as ReturnType<typeof startMainMetrics> | null;
  let finished = false;
  const stop = new StopSignal();

  // The controller pings every 2 s: a controller cut off (not closed) must not leave devices running.
  let heardAt = Date.now();
  ws.on('ping', () => {
    heardAt = Date.now();
  });
  const watchdog = setInterval(() => {
    if (Date.now() - heardAt > CONTROLLER_SILENCE_MS) ws.terminate();
  }, 1000);
  const closed = new Promise<string>((resolve) => {
    ws.on('close', (code, reason) =>
      resolve(code === CLOSE_REFUSED ? `refused: ${reason}` : `connection closed (${code})`),
    );
  });

  const sink = {
    add(delta: MetricsDelta) {
      if (options.recordDeltas) appendFileSync(options.recordDeltas, `${JSON.stringify(toWire(delta))}\n`);
      send({ type: 'metrics', delta: toWire(delta) });
    },
    removeSource() {
      // The controller forgets a lost thread's gauges when it hears of the loss (below).
    },
  };

  const start = async (init: AgentInit) => {
    const workers = Math.max(
      1,
      Math.min(options.workers ?? init.workers ?? availableParallelism(), init.worker.devices.length || 1),
    );
    // The media ladder of this machine (the controller's path may not exist here).
    const mediaDir =
      init.worker.mediaDir === null ? null : (await ensureLadder({ bitrates: init.worker.bitrates })).dir;
    progress.log(
      `agent ${init.agent}/${init.agents}: ${init.worker.devices.length} devices on ${workers} threads`,
    );
    const running = new FleetWorkers(
      roundRobin(init.worker.devices, workers),
      // Thread ids are unique over the fleet, so every delta source and health label is too.
      (w, devices) => ({ ...init.worker, workerIndex: init.agent * 1000 + w, devices, mediaDir }),
      sink,
      { log: (line: string) => send({ type: 'log', level: 'warn', message: line }) },
      stop,
      false,
      // Orders through the platform's API are chosen by the controller from its devices' notices.
      (notice) => send({ type: 'notice', notice }),
    );
    running.pool.on('exit', (exit) => {
      if (exit.error)
        send({
          type: 'lost',
          source: `worker-${init.agent * 1000 + exit.index}`,
          devices: exit.deviceCount,
          error: exit.error.message,
        });
    });
    fleet = running;
    processMetrics = startMainMetrics(sink, `agent-${init.agent}`);
    await running.ready(stop);
    send({ type: 'ready', devices: init.worker.devices.length });
  };

  const finish = async () => {
    if (finished) return;
    finished = true;
    await fleet?.close();
    processMetrics?.close();
    send({ type: 'done' });
  };

  ws.on('message', (data) => {
    heardAt = Date.now();
    const message = JSON.parse(String(data)) as ToAgent;
    if (message.type === 'init') {
      void start(message.init).catch((error: Error) => {
        send({ type: 'log', level: 'error', message: `cannot start: ${error.message}` });
        ws.close(1011, 'agent failed to start');
      });
    } else if (message.command.type === 'stop') {
      void finish().then(() => ws.close(1000, 'done'));
    } else if (message.command.type === 'target') {
      const target = message.command.running;
      const count = fleet?.count ?? 0;
      for (let w = 0; w < count; w++)
        fleet?.post(w, { type: 'target', running: shardShare(target, { index: w, count }) });
    } else {
      fleet?.broadcast(message.command);
    }
  });

  const why = await closed;
  clearInterval(watchdog);
  if (finished) return 0;
  progress.log(`controller gone (${why}): stopping devices`);
  finished = true;
  await fleet?.close();
  processMetrics?.close();
  if (why.startsWith('refused')) throw new AgentError(`the controller ${why}`);
  return 1;
}

/** Connects, retrying while nothing listens yet; a wrong token is an error at once. */
async function connect(options: AgentOptions): Promise<WebSocket> {
  const url = new URL(options.controller);
  if (url.pathname === '/' || url.pathname === '') url.pathname = AGENT_PATH;
  const deadline = Date.now() + options.connectTimeoutMs;
  for (;;) {
    const attempt = await new Promise<WebSocket | Error>((resolve) => {
      const ws = new WebSocket(url, {
        headers: { authorization: `Bearer ${options.token}` },
        perMessageDeflate: false,
      });
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        resolve(
          res.statusCode === 401
            ? new AgentError(
                `the controller at ${url.origin} refused this agent's token (401): give every agent the controller's token`,
              )
            : new Error(`the controller answered HTTP ${res.statusCode}`),
        );
      });
      ws.once('error', (error) => resolve(error));
    });
    if (attempt instanceof WebSocket) return attempt;
    if (attempt instanceof AgentError) throw attempt;
    if (Date.now() >= deadline)
      throw new AgentError(
        `cannot reach the controller at ${url.origin} within ${Math.round(options.connectTimeoutMs / 1000)} s (${attempt.message})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
