import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunOptions, type RunResult, runScenario } from '../src/farm/coordinator.js';
import { ProgressDisplay } from '../src/farm/progress.js';
import { parseScenario } from '../src/scenario/load.js';
import type { Scenario } from '../src/scenario/types.js';

/** A scenario from YAML text, failing the test with its problems when it is invalid. */
export function scenarioFrom(yaml: string, name = 'inline'): { scenario: Scenario; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), `ivtfarm-${name}-`));
  const { scenario, problems } = parseScenario(yaml, { file: join(dir, `${name}.yaml`) });
  assert.ok(scenario, JSON.stringify(problems));
  return { scenario, dir };
}

/** Runs a scenario in-process (real workers, real embedded platform), quietly, into a temp dir. */
export async function runInline(
  yaml: string,
  options: Partial<RunOptions> = {},
): Promise<RunResult & { scenario: Scenario }> {
  const { scenario, dir } = scenarioFrom(yaml);
  const result = await runScenario(scenario, {
    progress: new ProgressDisplay(process.stderr, 60_000, false),
    outputDir: join(dir, 'reports'),
    ...options,
  });
  return { ...result, scenario };
}

const cli = new URL('../src/cli.js', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; onStderr?: (text: string, kill: () => void) => void } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      options.onStderr?.(stderr, () => child.kill('SIGINT'));
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function scenarioFile(dir: string, body: string): string {
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, body);
  return file;
}
