// The compiled CLI (`node dist/src/cli.js`) on parameterised and hostile scenario files: a real
// run that takes its platform port from ${IVC_PORT} and its device count from --set, and
// `validate` on every case of "scenario loading is total" — each a located error with exit 2,
// under a deadline so that a hang fails the test instead of stalling it.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is what is tested
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { RunSummary } from '../src/core/summary-types.js';
import { startIvc } from '../src/ivc/server.js';
import { runCli } from './cli-support.js';
import { anyMix } from './farm-support.js';

const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-scenario-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI run in `dir`; still running after `timeoutMs`, it is killed and fails the test as a hang. */
const ivtfarm = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000) =>
  runCli(args, { env, cwd: dir, timeoutMs });

function scenario(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('parameterised runs', () => {
  test('IVC_PORT=<port> ivtfarm run s.yaml --set devices.count=20 uses both against the reference platform', async () => {
    const password = 'params-Secret-42';
    const ivc = await startIvc({ port: 0, auth: { password } });
    try {
      const port = new URL(ivc.url).port;
      const file = scenario(
        's.yaml',
        `name: params
target: "ws://127.0.0.1:\${IVC_PORT}/ivc"
tags: { env: ci, build: "\${BUILD:-local}" }
devices:
  count: 5
  login_code: "param-{index:03}"
  password: { env: IVT_PASSWORD }
  mix: [{ name: cams, tags: { vendor: acme } }]
  startup_jitter: 500ms
duration: 3s
workers: 1
`,
      );
      const out = join(dir, 'reports');
      const r = await ivtfarm(
        ['run', file, '--set', 'devices.count=20', '--out', out, '--quiet'],
        { IVC_PORT: port, IVT_PASSWORD: password },
        90_000,
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      // The platform on ${IVC_PORT} saw the 20 devices of --set, not the 5 of the file.
      const api = (await (await fetch(`${ivc.httpUrl}/api/devices`)).json()) as unknown;
      const list = (Array.isArray(api) ? api : (api as { devices: unknown[] }).devices) as Array<{
        login_code: string;
      }>;
      const codes = list.map((d) => d.login_code).filter((c) => c.startsWith('param-'));
      assert.equal(new Set(codes).size, 20, `devices seen by the platform: ${codes.length}`);
      const [runDir] = readdirSync(out);
      const summary = JSON.parse(readFileSync(join(out, runDir!, 'summary.json'), 'utf8')) as RunSummary;
      assert.deepEqual(summary.run.parameters, {
        variables: ['IVC_PORT'],
        overrides: [{ path: 'devices.count', value: 20 }],
      });
      assert.deepEqual(summary.run.tags, { env: 'ci', build: 'local' });
      assert.equal(summary.devices.planned, 20);
      assert.equal(summary.metrics.counters['logins{result:ok,reason:ok,mix:cams}'], 20);
      assert.equal(anyMix(summary.metrics.counters, 'logins{result:ok,reason:ok}'), 20);
      const junit = readFileSync(join(out, runDir!, 'junit.xml'), 'utf8');
      assert.match(junit, /<property name="tag\.env" value="ci"\/>/);
      assert.match(junit, /<property name="mix\.cams\.vendor" value="acme"\/>/);
      assert.doesNotMatch(readFileSync(join(out, runDir!, 'summary.json'), 'utf8'), new RegExp(password));
    } finally {
      await ivc.close();
    }
  });

  test('an unset ${X} is a located error: file:line:column, field and variable, exit 2', async () => {
    const file = scenario(
      'unset.yaml',
      'devices: { count: 2, password: pw }\ntarget: "ws://${X}:8080/ivc"\n',
    );
    const r = await ivtfarm(['validate', file], { X: undefined as unknown as string });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${file}:2:9 {2}target {2}environment variable X is not set`));
    const run = await ivtfarm(['run', file, '--out', join(dir, 'never')], {});
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /unset\.yaml:2:9 {2}target {2}environment variable X is not set/);
  });

  test('--set with an unknown path is refused with a did-you-mean, exit 2', async () => {
    const file = scenario('ok.yaml', 'devices: { count: 2 }\nduration: 2s\n');
    const r = await ivtfarm(['validate', file, '--set', 'devices.cont=3']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /--set {2}devices\.cont {2}unknown field `cont` in devices, did you mean `count`\?/,
    );
  });
});

describe('scenario loading is total: ivtfarm validate', () => {
  async function refused(file: string, pattern: RegExp): Promise<void> {
    const r = await ivtfarm(['validate', file]);
    assert.equal(r.code, 2, `exit code ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /Maximum call stack|TimeoutOverflowWarning|at .*\.js:\d+/);
  }

  test('a duration longer than a timer can wait (25d) is refused at its line', async () => {
    const file = scenario(
      'long.yaml',
      'devices: { count: 1 }\nduration: 1m\nplatform:\n  publish:\n    duration: 25d\n',
    );
    await refused(file, /long\.yaml:5:15 {2}platform\.publish\.duration {2}longer than a timer can wait/);
    const stages = scenario(
      'stages.yaml',
      'devices: { count: 1 }\nstages:\n  - { duration: 20d, target: 1 }\n  - { duration: 20d, target: 1 }\n',
    );
    await refused(stages, /stages\.yaml:3:3 {2}stages {2}longer than a timer can wait/);
  });

  test('a password file that is a FIFO without writer, /dev/zero or a directory is refused, without hanging', async () => {
    const fifo = join(dir, 'pw.fifo');
    const made = spawnSync('mkfifo', [fifo]);
    assert.equal(made.status, 0, 'mkfifo');
    mkdirSync(join(dir, 'pwdir'), { recursive: true });
    const cases: Array<[string, string, RegExp]> = [
      ['pw.fifo', 'fifo.yaml', /is a FIFO \(named pipe\), not a regular file/],
      ['/dev/zero', 'zero.yaml', /is a device, not a regular file/],
      ['pwdir', 'dir.yaml', /is a directory, not a regular file/],
    ];
    for (const [target, name, message] of cases) {
      const file = scenario(name, `devices:\n  count: 1\n  password: { file: ${target} }\n`);
      await refused(file, new RegExp(`${name}:3:21 {2}devices\\.password\\.file {2}\\S+ ${message.source}`));
    }
    const big = join(dir, 'big.txt');
    writeFileSync(big, Buffer.alloc(1024 * 1024, 'a'));
    await refused(
      scenario('big.yaml', `devices:\n  count: 1\n  password: { file: big.txt }\n`),
      /big\.yaml:3:21 {2}devices\.password\.file {2}\S+ is larger than 65536 bytes/,
    );
  });

  test('a mapping nested 3,000 levels deep is a located error, never a stack overflow', async () => {
    let text = 'devices:\n  count: 1\nx-deep:\n';
    for (let i = 0; i < 3000; i++) text += `${' '.repeat(i + 2)}a:\n`;
    text += `${' '.repeat(3002)}b: 1\n`;
    const file = scenario('deep.yaml', text);
    await refused(file, /deep\.yaml:67:66 {2}\["x-deep"\]\.a\.a\.a\.a\.a… {2}nested deeper than 64 levels/);
    const flow = scenario(
      'deep-flow.yaml',
      `devices: { count: 1 }\nx-deep: ${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}\n`,
    );
    await refused(
      flow,
      /deep-flow\.yaml:2:72 {2}\["x-deep"\]\[0\]\[0\]\[0\]\[0\]\[0\]… {2}nested deeper than 64 levels/,
    );
  });

  test('the scenario file itself must be a regular file', async () => {
    await refused(
      join(dir, 'pw.fifo'),
      /pw\.fifo {2}\(file\) {2}the file is a FIFO \(named pipe\), not a regular file/,
    );
    await refused('/dev/zero', /\/dev\/zero {2}\(file\) {2}the file is a device, not a regular file/);
  });
});
