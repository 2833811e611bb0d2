// The compiled CLI in a child process, as a user runs it: exit code and both outputs.
import { spawn } from 'node:child_process';

export const cli = new URL('../src/cli.js', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Sees stderr as it grows; `kill` sends SIGINT (an operator's Ctrl-C). */
  onStderr?: (text: string, kill: () => void) => void;
  /** A run still going after this is killed and rejected as a hang (default: no limit). */
  timeoutMs?: number;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      options.onStderr?.(stderr, () => child.kill('SIGINT'));
    });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill('SIGKILL');
            reject(
              new Error(`ivtfarm ${args.join(' ')} still running after ${options.timeoutMs} ms\n${stderr}`),
            );
          }, options.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
