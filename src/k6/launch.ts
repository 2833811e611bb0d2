// `k6: { script }` — a k6 script run beside the devices when a `k6` binary is on the PATH. It
// gets the run's facts in environment variables, writes `--out json` into the run directory,
// and what it writes is folded into the run's metrics second by second (tail.ts, import.ts). k6 cannot
// be installed on every machine: without it the preflight refuses the run (exit 3) and says so.

import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ProgressDisplay } from '../farm/progress.js';
import { platformOrigin } from '../http-load/source.js';
import { ExitCode, RunRefused } from '../run/exit-codes.js';
import { loadDurationMs } from '../run/load-shape.js';
import type { DeltaSink } from '../run/source.js';
import type { K6Plan, Scenario } from '../scenario/types.js';
import { K6ResultsTail } from './tail.js';

/** The `k6` executable on the PATH, or null. */
export function findK6(path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, 'k6');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** The preflight's question: is there a k6 to run the scenario's script? */
export function requireK6(plan: K6Plan): string {
  const k6 = findK6();
  if (!k6)
    throw new RunRefused(
      `preflight: the scenario runs the k6 script ${plan.script}, but there is no \`k6\` on the PATH — install k6 (grafana.com/docs/k6/latest/set-up/install-k6/) or remove \`k6:\` from the scenario. Nothing was started.`,
      ExitCode.PreflightFailed,
    );
  return k6;
}

/** What the script is told about the run (names documented in docs/k6.md). */
export interface K6Facts {
  /** The devices' endpoint: ws(s)://…/ivc. */
  platformUrl: string;
  /** The platform's HTTP origin (its API). */
  platformHttp: string;
  loginCodes: readonly string[];
  durationMs: number;
  /** The `api:` block's token, when the run logged in (never written anywhere else). */
  apiToken?: string;
}

const POLL_MS = 500;
const STOP_GRACE_MS = 10_000;

export class K6Source {
  private child: ChildProcess | null = null;
  private tail: K6ResultsTail | null = null;
  private timer: NodeJS.Timeout | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    private readonly plan: K6Plan,
    private readonly facts: K6Facts,
    private readonly runDir: string,
    private readonly sink: DeltaSink,
    private readonly progress: ProgressDisplay,
  ) {}

  get resultsFile(): string {
    return join(this.runDir, 'k6.json');
  }

  start(): void {
    const k6 = requireK6(this.plan);
    const devicesFile = join(this.runDir, 'k6-devices.json');
    writeFileSync(devicesFile, JSON.stringify(this.facts.loginCodes));
    writeFileSync(this.resultsFile, '');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.plan.env,
      IVTFARM_PLATFORM_URL: this.facts.platformUrl,
      IVTFARM_PLATFORM_HTTP: this.facts.platformHttp,
      IVTFARM_DEVICES_FILE: devicesFile,
      IVTFARM_DEVICE_COUNT: String(this.facts.loginCodes.length),
      IVTFARM_DURATION_S: String(Math.round(this.facts.durationMs / 1000)),
      ...(this.facts.apiToken ? { IVTFARM_API_TOKEN: this.facts.apiToken } : {}),
    };
    const log = createWriteStream(join(this.runDir, 'k6.log'));
    const child = spawn(
      k6,
      ['run', '--out', `json=${this.resultsFile}`, ...this.plan.args, this.plan.script],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.progress.log(`k6 could not start: ${error.message}`);
        resolve(null);
      });
      child.once('exit', (code) => resolve(code));
    });
    void this.exited.then((code) => {
      if (code !== null)
        this.progress.log(`k6 ended (exit ${code}; its output: ${join(this.runDir, 'k6.log')})`);
    });
    this.progress.log(`k6 runs ${this.plan.script} (results folded in from ${this.resultsFile})`);
    const tail = new K6ResultsTail(this.resultsFile, this.sink);
    this.tail = tail;
    // k6 writes a second's points a little later: the current and the previous second stay open.
    this.timer = setInterval(() => tail.poll(Math.floor(Date.now() / 1000) - 1), POLL_MS);
  }

  /** Stops k6 (SIGINT: it ends its iterations and writes its last points), then folds in the rest. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(killer);
    }
    this.child = null;
    const tail = this.tail;
    this.tail = null;
    if (!tail) return;
    tail.poll(0, true);
    tail.close();
    const { lines, first } = tail.skipped;
    if (lines > 0) this.progress.log(`k6 results: ${lines} line(s) skipped (${first})`);
  }
}

/** The scenario's k6 script as a source of the run (started with the load), or null without one. */
export function k6Of(
  scenario: Scenario,
  ivc: { url: string; httpUrl: string } | null,
  planned: readonly { loginCode: string }[],
  runDir: string,
  sink: DeltaSink,
  progress: ProgressDisplay,
  apiToken: string | null = null,
): K6Source | null {
  if (!scenario.k6) return null;
  const facts: K6Facts = {
    platformUrl: ivc?.url ?? (scenario.target.kind === 'remote' ? scenario.target.url : ''),
    platformHttp: platformOrigin(scenario, ivc?.httpUrl ?? null),
    loginCodes: planned.map((d) => d.loginCode),
    durationMs: loadDurationMs(scenario),
    ...(apiToken ? { apiToken } : {}),
  };
  return new K6Source(scenario.k6, facts, runDir, sink, progress);
}
