// The verdict can be trusted: a run where nothing happened never passes, a dead or refusing
// target stops the run before the load, and devices lost to a crashed worker fail it.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startIvc } from '../src/ivc/server.js';
import { formatSummary } from '../src/report/console.js';
import { writeRunReports } from '../src/report/index.js';
import { RunRefused } from '../src/run/exit-codes.js';
import { freePort } from '../support/free-port.js';
import { runCli, runInline, scenarioFile } from './farm-support.js';

const PASSWORD = 'Verdict-pw-8123';

const remote = (url: string, extra = '') => `
name: verdict
target: ${url}
devices:
  count: 20
  login_code: "vd-{index:03}"
  password: { env: VERDICT_PW }
stages:
  - { duration: 1s, target: 20 }
  - { duration: 3s, target: 20 }
${extra}
`;

/** Every file of a run directory, as text: where "PASSED" must not appear. */
function everything(dir: string): string {
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

function runDirs(out: string): string[] {
  return existsSync(out) ? readdirSync(out).map((d) => join(out, d)) : [];
}

describe('run checks and preflight', () => {
  test('a target where nothing listens stops the run before the load, with a plain message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-verdict-'));
    const port = await freePort();
    const out = join(dir, 'reports');
    const r = await runCli(['run', scenarioFile(dir, remote(`ws://127.0.0.1:${port}/ivc`)), '--out', out], {
      env: { VERDICT_PW: PASSWORD },
    });
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^ivtfarm: preflight: cannot connect to ws://127\\.0\\.0\\.1:${port}/ivc: connection refused — is the platform running on that port\\? Nothing was started`,
        'm',
      ),
    );
    assert.doesNotMatch(r.stderr + r.stdout, /PASSED|ECONNREFUSED|at .*\.js:\d+/);
    assert.deepEqual(runDirs(out), [], 'no run directory');
  });

  test('a target that refuses the credentials (401) stops the run at once; the password is never shown', async () => {
    const ivc = await startIvc({ host: '127.0.0.1', port: 0, auth: { password: 'the-right-one' } });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-verdict-'));
      const out = join(dir, 'reports');
      const r = await runCli(['run', scenarioFile(dir, remote(ivc.url)), '--out', out], {
        env: { VERDICT_PW: PASSWORD },
      });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /refused the login of vd-000 with HTTP 401 \(bad login code or password\)/);
      assert.match(r.stderr, /check devices\.password/);
      assert.doesNotMatch(r.stderr + r.stdout, new RegExp(`${PASSWORD}|PASSED`));
      assert.deepEqual(runDirs(out), []);
      assert.equal(ivc.platform.devices.size, 0, 'no device got in');
    } finally {
      await ivc.close();
    }
  });

  test('without the preflight, a run whose every login is refused fails, with the reason in console, report and JUnit', async () => {
    const ivc = await startIvc({ host: '127.0.0.1', port: 0, auth: { password: 'the-right-one' } });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-verdict-'));
      const out = join(dir, 'reports');
      const file = scenarioFile(dir, remote(ivc.url, 'checks: { preflight: false }'));
      const r = await runCli(['run', file, '--out', out, '--quiet'], { env: { VERDICT_PW: PASSWORD } });
      assert.equal(r.code, 99, r.stderr + r.stdout);
      assert.match(
        r.stdout,
        /verdict: FAILED — no device ever came online \(20 started; logins: refused http_401 × \d+\)/,
      );
      assert.match(
        r.stdout,
        /✗ check devices never online: 20 of 20 started devices \(100 %\) never came online/,
      );
      const [runDir] = runDirs(out);
      assert.ok(runDir);
      const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
      assert.equal(summary.run.verdict, 'fail');
      assert.match(summary.run.reasons[0], /^no device ever came online/);
      const junit = readFileSync(join(runDir, 'junit.xml'), 'utf8');
      assert.match(
        junit,
        /<testcase name="devices came online" classname="ivtfarm\.verdict\.checks"[^>]*>\s*<failure message="no device ever came online/,
      );
      const html = readFileSync(join(runDir, 'report.html'), 'utf8');
      assert.match(html, /FAILED/);
      assert.match(html, /no device ever came online/);
      assert.doesNotMatch(everything(runDir) + r.stdout + r.stderr, /PASSED/);
      assert.doesNotMatch(everything(runDir) + r.stdout + r.stderr, new RegExp(PASSWORD));
    } finally {
      await ivc.close();
    }
  });

  test('an rtmp:// push URL where nothing listens is caught by the preflight too (embedded target)', async () => {
    const port = await freePort();
    await assert.rejects(
      runInline(`
name: push-preflight
target: embedded
devices:
  count: 2
  push: { url: "rtmp://127.0.0.1:${port}/live/{login_code}-{channel}", quality: ld }
stages:
  - { duration: 2s, target: 2 }
`),
      (error: unknown) =>
        error instanceof RunRefused &&
        error.exitCode === 3 &&
        error.message.includes(`devices.push.url 127.0.0.1:${port}: connection refused`),
    );
  });

  test('each check can be turned off: a refused run with checks off is judged by its thresholds alone', async () => {
    const ivc = await startIvc({ host: '127.0.0.1', port: 0, auth: { password: 'the-right-one' } });
    try {
      const result = await runInline(
        remote(
          ivc.url,
          'checks: { preflight: false, any_online: false, never_online: false }\nthresholds:\n  "logins{result:refused}": ["count>0"]',
        ).replace('{ env: VERDICT_PW }', PASSWORD),
      );
      assert.equal(result.exitCode, 0, JSON.stringify(result.summary.checks));
      assert.equal(result.summary.run.verdict, 'pass');
      assert.deepEqual(
        result.summary.checks?.map((c) => [c.name, c.skipped]),
        [
          ['devices came online', true],
          ['devices never online', true],
          ['devices lost', false],
        ],
      );
    } finally {
      await ivc.close();
    }
  });
});

describe('a crashed worker', () => {
  const crashing = `
name: crash
target: embedded
devices: { count: 20, login_code: "cr-{index:03}" }
stages:
  - { duration: 1s, target: 20 }
  - { duration: 3s, target: 20 }
workers: 2
`;

  test('devices lost to a crash fail the run: FAILED — N devices lost, exit 97, a failing JUnit case', async () => {
    const result = await runInline(crashing, { crashWorkers: { 1: 1500 } });
    assert.equal(result.exitCode, 97);
    assert.equal(result.summary.run.verdict, 'fail');
    // on_worker_crash: continue (the default) kept the run going; the loss still fails it.
    assert.equal(result.summary.run.stop_reason, 'completed');
    assert.match(
      formatSummary(result.summary),
      /crash: FAILED — 10 devices lost: worker 1 crashed \(.*injected worker crash.*\) in [\d.]+s \(exit 97\)/,
    );
    const files = await writeRunReports(result.dir);
    const junit = readFileSync(files.junit!, 'utf8');
    assert.match(
      junit,
      /<testcase name="devices lost"[^>]*>\s*<failure message="10 devices lost: worker 1 crashed/,
    );
    assert.match(junit, /<testsuites [^>]*failures="[1-9]/);
    assert.match(readFileSync(files.html!, 'utf8'), /10 devices lost/);
    assert.doesNotMatch(everything(result.dir), /PASSED/);
  });

  test('a worker that crashes before its devices logged in is a loss too; the survivors still come online', async () => {
    const result = await runInline(crashing, { crashWorkers: { 0: 1 } });
    assert.equal(result.exitCode, 97, JSON.stringify(result.summary.run));
    assert.equal(result.summary.devices.lost[0]?.devices, 10);
  });
});
