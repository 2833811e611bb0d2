import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { RunSummary } from '../src/core/summary-types.js';
import { runScenario } from '../src/farm/coordinator.js';
import { ProgressDisplay } from '../src/farm/progress.js';
import { parseScenario } from '../src/scenario/load.js';
import { anyMix, runCli, scenarioFile } from './farm-support.js';

function onlyRunDir(out: string): string {
  const dirs = readdirSync(out);
  assert.equal(dirs.length, 1, `one run directory in ${out}: ${dirs.join(', ')}`);
  return join(out, dirs[0]!);
}

const small = (extra = '') => `
name: farm-test
target: embedded
seed: 3
devices:
  count: 20
  login_code: "ft-{index:03}"
  mix:
    - { weight: 1, kind: camera, profile: spec }
    - { weight: 1, kind: nvr, channels: 4, profile: vendor }
stages:
  - { duration: 2s, target: 20 }
  - { duration: 4s, target: 20 }
${extra}
`;

describe('ivtfarm run', () => {
  test('runs a scenario on the embedded platform, every device logs in, results are on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-run-'));
    const out = join(dir, 'reports');
    const file = scenarioFile(
      dir,
      small(`thresholds:\n  login_duration: ["p(99)<5000"]\n  keepalive_rtt: ["count>0"]\n`),
    );
    const r = await runCli(['run', file, '--out', out]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /farm-test: PASSED/);
    const runDir = onlyRunDir(out);
    assert.match(r.stdout, new RegExp(`summary: ${join(runDir, 'summary.json')}`));
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
    assert.equal(summary.schema, 'ivtfarm.summary/1');
    assert.equal(summary.run.verdict, 'pass');
    assert.equal(anyMix(summary.metrics.counters, 'logins{result:ok,reason:ok}'), 20);
    assert.equal(summary.metrics.gauges['devices{state:online}']?.max, 20);
    assert.ok(
      (summary.metrics.histograms.keepalive_rtt?.count ?? 0) >= 20,
      'a keepalive per device at least',
    );
    assert.equal(summary.thresholds.length, 2);
    const lines = readFileSync(join(runDir, 'timeseries.jsonl'), 'utf8').trim().split('\n');
    assert.ok(lines.length >= 5, `one line per second (${lines.length})`);
    for (const line of lines) assert.equal(typeof JSON.parse(line).t, 'number');
    // The scenario as run is kept, secrets masked.
    const asRun = readFileSync(join(runDir, 'scenario.json'), 'utf8');
    assert.match(asRun, /"password": "\*\*\*"/);
  });

  test('--metrics-port serves Prometheus text while the run goes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-run-'));
    const file = scenarioFile(dir, small());
    let endpoint: string | null = null;
    let scraped = '';
    let done = false;
    // Scrape every 300 ms while the run goes; keep the last scrape that saw logins.
    const scraper = (async () => {
      while (!done) {
        if (endpoint) {
          const text = await fetch(endpoint).then(
            (r) => r.text(),
            () => '',
          );
          if (/ivtfarm_logins_total\{/.test(text)) scraped = text;
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const r = await runCli(['run', file, '--out', join(dir, 'reports'), '--metrics-port', '0'], {
      onStderr: (text) => {
        endpoint ??= /Prometheus metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(text)?.[1] ?? null;
      },
    });
    done = true;
    await scraper;
    assert.equal(r.code, 0, r.stderr);
    assert.match(scraped, /^# TYPE ivtfarm_logins_total counter$/m);
    assert.match(scraped, /^ivtfarm_logins_total\{result="ok",reason="ok",mix="camera\/spec"\} [1-9]\d*$/m);
    assert.match(scraped, /^ivtfarm_keepalive_rtt/m);
  });

  test('a failing threshold exits 99 and says which', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-run-'));
    const file = scenarioFile(dir, small(`thresholds:\n  "logins{result:ok}": ["count<5"]\n`));
    const r = await runCli(['run', file, '--out', join(dir, 'reports'), '--quiet']);
    assert.equal(r.code, 99, r.stderr);
    assert.match(r.stdout, /FAILED/);
    assert.match(r.stdout, /✗ logins\{result:ok\} count<5 {2}observed 20/);
  });

  test('Ctrl-C stops the devices, still writes a summary and exits 105', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-run-'));
    const out = join(dir, 'reports');
    const file = scenarioFile(dir, small().replace('4s, target: 20', '60s, target: 20'));
    let sent = false;
    const r = await runCli(['run', file, '--out', out], {
      onStderr: (text, kill) => {
        // Wait until devices are online, then interrupt as a person would.
        if (!sent && /online [1-9]/.test(text)) {
          sent = true;
          kill();
        }
      },
    });
    assert.ok(sent, `saw devices online before interrupting: ${r.stderr}`);
    assert.equal(r.code, 105, r.stderr);
    assert.match(r.stderr, /SIGINT: stopping devices and writing results/);
    const summary = JSON.parse(readFileSync(join(onlyRunDir(out), 'summary.json'), 'utf8')) as RunSummary;
    assert.equal(summary.run.stop_reason, 'interrupted');
    assert.equal(summary.run.verdict, 'interrupted');
    assert.ok((anyMix(summary.metrics.counters, 'logins{result:ok,reason:ok}') ?? 0) > 0);
  });

  test('a scenario with a typo is refused with file, line and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-run-'));
    const file = scenarioFile(dir, small().replace('devices:', 'devces:'));
    for (const command of ['validate', 'run']) {
      const r = await runCli([command, file]);
      assert.equal(r.code, 2, `${command}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${file.replaceAll('.', '\\.')}:5:1`));
      assert.match(r.stderr, /devces/);
      assert.match(r.stderr, /did you mean `?devices/);
    }
  });

  test('a crashed worker is reported with its devices counted as lost; the run goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-run-'));
    const { scenario } = parseScenario(small().replace('4s, target: 20', '3s, target: 20'), {
      file: join(dir, 's.yaml'),
    });
    assert.ok(scenario);
    scenario.workers = 2;
    const logs: string[] = [];
    const progress = new ProgressDisplay(process.stderr, 5000, false);
    progress.log = (m: string) => {
      logs.push(m);
    };
    const result = await runScenario(scenario, {
      progress,
      outputDir: join(dir, 'reports'),
      crashWorkers: { 1: 1500 },
    });
    assert.equal(result.exitCode, 97);
    assert.equal(result.summary.devices.lost.length, 1);
    assert.equal(result.summary.devices.lost[0]!.worker, 1);
    assert.equal(result.summary.devices.lost[0]!.devices, 10);
    assert.match(result.summary.devices.lost[0]!.error, /injected worker crash/);
    assert.ok(
      logs.some((l) => /worker 1 crashed .* its 10 devices are lost/.test(l)),
      logs.join('\n'),
    );
    // The surviving worker's devices ran to the end.
    assert.equal(result.summary.run.stop_reason, 'completed');
  });
});
