// The controller's door for agents: a WebSocket endpoint that checks the shared token, hands out
// slices (the one an agent asks for, else the first free one) and waits until every expected
// agent joined — or refuses the run after the join timeout, naming who is missing.

import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ProgressDisplay } from '../farm/progress.js';
import { ExitCode, RunRefused } from '../run/exit-codes.js';
import { AGENT_PATH, CLOSE_REFUSED, type FromAgent, parseFromAgent } from './protocol.js';
import { DEFAULT_TOKEN_ENV, tokenMatches } from './token.js';

export interface AgentPlan {
  host: string;
  port: number;
  /** Agents the run waits for before the load starts. */
  expect: number;
  token: string;
  joinTimeoutMs: number;
  /** An agent that sends nothing for this long is lost. */
  silenceMs: number;
  /** Start the agents as child processes of this one (one box, many processes). */
  local: null | { workersPerAgent: number | null; recordDeltasDir: string | null };
}

/** One joined agent: its socket, its slice and the messages it sends. */
export class AgentLink extends EventEmitter<{ message: [FromAgent]; gone: [string] }> {
  lastSeenMs = Date.now();
  open = true;

  constructor(
    readonly slice: number,
    readonly remote: string,
    readonly ws: WebSocket,
  ) {
    super();
    ws.on('message', (data) => {
      this.lastSeenMs = Date.now();
      let message: FromAgent;
      try {
        message = parseFromAgent(String(data));
      } catch (error) {
        this.drop(`sent a malformed message (${(error as Error).message})`);
        return;
      }
      this.emit('message', message);
    });
    ws.on('pong', () => {
      this.lastSeenMs = Date.now();
    });
    ws.on('close', (code, reason) =>
      this.gone(`connection closed (${code}${reason.length ? ` ${reason}` : ''})`),
    );
    ws.on('error', (error) => this.gone(`connection failed (${error.message})`));
  }

  send(message: unknown): void {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  /** Cuts the agent off (silence, a bad message); reported once as gone. */
  drop(why: string): void {
    this.gone(why);
    this.ws.terminate();
  }

  private gone(why: string): void {
    if (!this.open) return;
    this.open = false;
    this.emit('gone', why);
  }
}

export class AgentHub {
  readonly links: AgentLink[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly joined = new EventEmitter();
  private pinger: NodeJS.Timeout | null = null;
  /** Set once the load is dealt out: a later agent has no slice to run. */
  sealed = false;

  private constructor(
    private readonly plan: AgentPlan,
    private readonly server: WebSocketServer,
    private readonly progress: ProgressDisplay,
  ) {
    server.on('connection', (ws, req) => this.onConnection(ws, req));
    // Pings keep idle NATs open and let silence be measured also while an agent has nothing to say.
    this.pinger = setInterval(() => {
      for (const link of this.links) if (link?.open) link.ws.ping();
    }, 2000);
  }

  /** Listens for agents (a taken port refuses the run, exit 2); starts local agents if planned. */
  static async open(plan: AgentPlan, progress: ProgressDisplay): Promise<AgentHub> {
    const server = new WebSocketServer({
      host: plan.host,
      port: plan.port,
      path: AGENT_PATH,
      maxPayload: 64 * 1024 * 1024,
      verifyClient: (info, done) => {
        const ok = tokenMatches(info.req.headers.authorization, plan.token);
        if (!ok) progress.log(`agent from ${info.req.socket.remoteAddress} refused: wrong or missing token`);
        done(ok, 401, 'wrong or missing agent token');
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          new RunRefused(
            `cannot listen for agents on ${plan.host}:${plan.port}: ${error.code ?? error.message}`,
            ExitCode.UsageError,
          ),
        );
      });
    });
    const hub = new AgentHub(plan, server, progress);
    if (plan.local) hub.startLocalAgents(plan.local);
    else progress.log(`waiting for ${plan.expect} agents on ${hub.url}`);
    return hub;
  }

  get url(): string {
    const address = this.server.address();
    const port = typeof address === 'object' && address ? address.port : this.plan.port;
    const host = this.plan.host.includes(':') ? `[${this.plan.host}]` : this.plan.host;
    return `ws://${host}:${port}${AGENT_PATH}`;
  }

  get count(): number {
    return this.plan.expect;
  }

  /** Resolves when every expected agent joined; refuses the run after the join timeout. */
  async gather(): Promise<void> {
    const complete = () => this.links.filter((l) => l?.open).length >= this.plan.expect;
    if (complete()) return;
    let timer: NodeJS.Timeout | undefined;
    const joinedAll = new Promise<boolean>((resolve) => {
      this.joined.on('join', () => {
        if (complete()) resolve(true);
      });
    });
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.plan.joinTimeoutMs);
    });
    const childDied = new Promise<string>((resolve) => this.joined.on('failed', resolve));
    const ok = await Promise.race([joinedAll, timedOut, childDied]);
    if (typeof ok === 'string') {
      clearTimeout(timer);
      throw new RunRefused(ok, ExitCode.RuntimeError);
    }
    clearTimeout(timer);
    if (!ok) {
      const missing: number[] = [];
      for (let s = 0; s < this.plan.expect; s++) if (!this.links[s]?.open) missing.push(s);
      throw new RunRefused(
        `only ${this.plan.expect - missing.length} of ${this.plan.expect} agents joined within ` +
          `${Math.round(this.plan.joinTimeoutMs / 1000)} s (--join-timeout); missing slices: ${missing.join(', ')}`,
        ExitCode.PreflightFailed,
      );
    }
  }

  async close(): Promise<void> {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    for (const link of this.links) link?.ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Local agents exit by themselves after `stop`; one that does not is ended.
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    ws.once('message', (data) => {
      let hello: FromAgent;
      try {
        hello = parseFromAgent(String(data));
      } catch {
        ws.close(CLOSE_REFUSED, 'expected hello');
        return;
      }
      if (hello.type !== 'hello') return ws.close(CLOSE_REFUSED, 'expected hello');
      const slice = this.pickSlice(hello.slice);
      if (typeof slice === 'string') {
        this.progress.log(`agent ${hello.host} (${remote}) refused: ${slice}`);
        ws.close(CLOSE_REFUSED, slice);
        return;
      }
      const link = new AgentLink(slice, `${hello.host} (${remote})`, ws);
      this.links[slice] = link;
      this.progress.log(
        `agent ${slice} joined from ${link.remote} (${this.links.filter((l) => l?.open).length}/${this.plan.expect})`,
      );
      this.joined.emit('join');
    });
  }

  /** The slice asked for, or the first free one; a string says why the agent is turned away. */
  private pickSlice(asked: number | null): number | string {
    if (this.sealed) return 'the run has already started';
    if (asked !== null) {
      if (!Number.isInteger(asked) || asked < 0 || asked >= this.plan.expect)
        return `slice ${asked} does not exist (the run expects ${this.plan.expect} agents: 0…${this.plan.expect - 1})`;
      if (this.links[asked]?.open) return `slice ${asked} is already taken`;
      return asked;
    }
    for (let s = 0; s < this.plan.expect; s++) if (!this.links[s]?.open) return s;
    return `the run already has its ${this.plan.expect} agents`;
  }

  private startLocalAgents(local: NonNullable<AgentPlan['local']>): void {
    const cli = new URL('../cli.js', import.meta.url).pathname;
    for (let i = 0; i < this.plan.expect; i++) {
      // IVTFARM_AGENT_NODE_ARGS: node flags of local agents (e.g. "--cpu-prof --cpu-prof-dir=prof"),
      // which NODE_OPTIONS refuses for some of them.
      const nodeArgs = process.env.IVTFARM_AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
      const args = [...nodeArgs, cli, 'agent', '--controller', this.url, '--slice', String(i)];
      if (local.workersPerAgent) args.push('--workers', String(local.workersPerAgent));
      if (local.recordDeltasDir) args.push('--record-deltas', `${local.recordDeltasDir}/agent-${i}.jsonl`);
      const child = spawn(process.execPath, args, {
        env: { ...process.env, [DEFAULT_TOKEN_ENV]: this.plan.token },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.setEncoding('utf8');
      let partial = '';
      child.stderr?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) this.progress.log(`agent ${i}: ${line}`);
      });
      child.once('exit', (code, signal) => {
        if (!this.links[i])
          this.joined.emit(
            'failed',
            `local agent ${i} exited before it joined (${signal ?? `exit code ${code}`})`,
          );
      });
      this.children.push(child);
    }
    this.progress.log(
      `started ${this.plan.expect} local agents (pids ${this.children.map((c) => c.pid).join(', ')})`,
    );
  }
}
