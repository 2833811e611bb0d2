import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runScenario } from '../src/farm/coordinator.js';
import { MergeError, mergeRuns } from '../src/farm/merge.js';
import { ProgressDisplay } from '../src/farm/progress.js';
import { writeRunReports } from '../src/report/index.js';
import { parseScenario } from '../src/scenario/load.js';
import { anyMix } from './farm-support.js';

test('the shards of one run merge into one run: exact totals, thresholds re-judged, a report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-merge-'));
  const { scenario, problems } = parseScenario(
    `
name: sharded
target: embedded
devices:
  count: 15
  login_code: "sh-{index:02}"
  mix: [{ weight: 1, kind: nvr, channels: 2 }]
stages:
  - { duration: 1s, target: 15 }
  - { duration: 4s, target: 15 }
thresholds:
  "logins{result:ok}": ["count==15"]
  keepalive_rtt: ["count>=15"]
`,
    { file: join(dir, 'sharded.yaml') },
  );
  assert.ok(scenario, JSON.stringify(problems));
  const progress = new ProgressDisplay(process.stderr, 60_000, false);
  const runs: Awaited<ReturnType<typeof runScenario>>[] = [];
  for (const index of [0, 1]) {
    runs.push(
      await runScenario(scenario, {
        progress,
        outputDir: join(dir, `shard-${index}`),
        shard: { index, count: 2 },
      }),
    );
  }
  // Alone, each shard fails the fleet-wide threshold (8 and 7 logins, not 15).
  assert.deepEqual(
    runs.map((r) => [r.summary.devices.planned, r.exitCode]),
    [
      [8, 99],
      [7, 99],
    ],
  );
  const out = join(dir, 'merged');
  const merged = await mergeRuns(
    out,
    runs.map((r) => r.dir),
  );
  assert.equal(merged.devices.planned, 15);
  assert.equal(anyMix(merged.metrics.counters, 'logins{result:ok,reason:ok}'), 15);
  assert.equal(
    merged.metrics.histograms.keepalive_rtt?.count,
    runs.reduce((n, r) => n + (r.summary.metrics.histograms.keepalive_rtt?.count ?? 0), 0),
  );
  assert.deepEqual(
    merged.thresholds.map((t) => t.ok),
    [true, true],
  );
  assert.equal(merged.run.verdict, 'pass');
  assert.equal(merged.run.exit_code, 0);
  const seconds = readFileSync(join(out, 'timeseries.jsonl'), 'utf8').trim().split('\n');
  assert.ok(seconds.length >= 5);
  // The series, parsed and merged in pool threads: every second's logins add up over the shards.
  const logins = (file: string): number =>
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { counters: Record<string, number> })
      .reduce((n, s) => n + (anyMix(s.counters, 'logins{result:ok,reason:ok}') ?? 0), 0);
  assert.equal(logins(join(out, 'timeseries.jsonl')), 15);
  assert.equal(
    runs.reduce((n, r) => n + logins(join(r.dir, 'timeseries.jsonl')), 0),
    15,
  );
  const files = await writeRunReports(out);
  assert.ok(files.html && existsSync(files.html));
  await assert.rejects(mergeRuns(join(dir, 'twice'), [runs[0]!.dir, runs[0]!.dir]), MergeError);
});
