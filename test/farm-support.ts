import assert from 'node:assert/strict';
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

export { type CliResult, runCli } from './cli-support.js';

export function scenarioFile(dir: string, body: string): string {
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, body);
  return file;
}

/** A counter of summary.json summed over the mix entries: `logins{result:ok,reason:ok}` → n. */
export function anyMix(counters: Record<string, number>, key: string): number | undefined {
  const open = `${key.slice(0, -1)},mix:`;
  let sum: number | undefined;
  for (const [k, n] of Object.entries(counters))
    if (k === key || (key.endsWith('}') && k.startsWith(open))) sum = (sum ?? 0) + n;
  return sum;
}
