// Runs the built `ivtfarm` command line in a child process for the end-to-end tests; every child
// still running when the test file ends is killed.
import { type ChildProcess, spawn } from 'node:child_process';
import { after } from 'node:test';

const cli = new URL('../src/cli.js', import.meta.url).pathname;
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

export interface Running {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  exited: Promise<number | null>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
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
