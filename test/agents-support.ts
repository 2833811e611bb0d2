// Shared by the agent tests: scenarios, agent processes started by hand, a controller waiting
// for them. Every process started here is killed when its test file ends (cli-process.ts).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromJsonLine, type SecondSample } from '../src/metrics/aggregator.js';
import { type Running, startCli } from './cli-process.js';
import { type CliResult, runCli, scenarioFile } from './farm-support.js';

export const TOKEN = 'agent-Token-3f9c1e77';

import { freePort } from '../support/free-port.js';

export { freePort };

export type Agent = Running;

export function startAgent(args: string[], env: NodeJS.ProcessEnv): Agent {
  return startCli(['agent', ...args], env);
}

export function cameras(count: number, seconds: number): string {
  return `
name: agents
seed: 7
target: embedded
devices:
  count: ${count}
  login_code: "agt-{index:03}"
  mix: [{ weight: 1, kind: camera, profile: spec }]
  startup_jitter: 1s
stages:
  - { duration: 3s, target: ${count} }
  - { duration: ${seconds - 3}s, target: ${count} }
`;
}

export function runDir(out: string): string {
  const runs = readdirSync(out).filter((d) => existsSync(join(out, d, 'summary.json')));
  assert.equal(runs.length, 1, `one run directory in ${out}: ${runs.join(', ')}`);
  return join(out, runs[0]!);
}

export function readSeconds(file: string): SecondSample[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => fromJsonLine(line));
}

export interface RemoteRun {
  run: Promise<CliResult>;
  /** Where the agents join. */
  url: string;
  agents: Agent[];
  out: string;
}

/**
 * `run --listen` on a free port expecting `expect` agents, and `start` agents started by hand
 * (slices 0, 1, …); `onJoined` is called once every expected agent joined.
 */
export async function remoteRun(options: {
  devices: number;
  seconds: number;
  expect: number;
  start: number;
  flags?: string[];
  env?: NodeJS.ProcessEnv;
  onJoined?: (agents: Agent[]) => void;
}): Promise<RemoteRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-remote-'));
  const port = await freePort();
  const env = options.env ?? { IVTFARM_AGENT_TOKEN: TOKEN };
  const agents: Agent[] = [];
  const out = join(dir, 'reports');
  let joined = false;
  const all = new RegExp(`joined .*\\(${options.expect}/${options.expect}\\)`);
  const run = runCli(
    [
      'run',
      scenarioFile(dir, cameras(options.devices, options.seconds)),
      '--listen',
      `127.0.0.1:${port}`,
      '--expect-agents',
      String(options.expect),
      ...(options.flags ?? []),
      '-q',
      '-o',
      out,
    ],
    {
      env,
      onStderr: (text) => {
        if (!joined && all.test(text)) {
          joined = true;
          options.onJoined?.(agents);
        }
      },
    },
  );
  for (let i = 0; i < options.start; i++)
    agents.push(startAgent(['--controller', `ws://127.0.0.1:${port}`, '--slice', String(i)], env));
  return { run, agents, out, url: `ws://127.0.0.1:${port}` };
}
