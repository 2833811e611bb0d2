// Runs the built `ivtfarm` command line in a child process, for benches and end-to-end tests
// alike. Every child started here is killed by `killCliChildren` (tests call it after the file,
// benches on exit), so none outlives its caller.
import { type ChildProcess, spawn } from 'node:child_process';

const cli = new URL('../src/cli.js', import.meta.url).pathname;
const children: ChildProcess[] = [];

export interface Running {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `ivtfarm <args>` with `env` added to this process's environment and `nodeFlags` for node. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, nodeFlags: string[] = []): Running {
  const child = spawn(process.execPath, [...nodeFlags, cli, ...args], { env: { ...process.env, ...env } });
  children.push(child);
  let text = '';
  child.stdout!.on('data', (d) => {
    text += d;
  });
  child.stderr!.on('data', (d) => {
    text += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/** Kills every child still running. */
export function killCliChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
