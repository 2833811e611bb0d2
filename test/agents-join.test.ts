// Joining a controller (`run --listen … --expect-agents N`): tokens, the join timeout, usage
// mistakes; real processes over loopback.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cameras, remoteRun, startAgent, TOKEN } from './agents-support.js';
import { runCli, scenarioFile } from './farm-support.js';

describe('agent usage mistakes', () => {
  test('flags that do not go together, bad addresses and a taken port exit 2 in plain words', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-agent-usage-'));
    const file = scenarioFile(dir, cameras(4, 4));
    const env = { IVTFARM_AGENT_TOKEN: TOKEN };
    const cases: Array<[string[], RegExp]> = [
      [['run', file, '--listen', '127.0.0.1:0'], /--listen HOST:PORT and --expect-agents N go together/],
      [['run', file, '--listen', 'nowhere', '--expect-agents', '1'], /--listen must be HOST:PORT/],
      [
        ['run', file, '--listen', '127.0.0.1:0', '--expect-agents', '1', '--agents', '2'],
        /--agents starts local agents/,
      ],
      [['agent', '--controller', 'http://127.0.0.1:1'], /--controller must be a ws:\/\/ URL/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { env });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    const taken = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    const port = (taken.address() as { port: number }).port;
    const result = await runCli(['run', file, '--listen', `127.0.0.1:${port}`, '--expect-agents', '1'], {
      env,
    });
    taken.close();
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`cannot listen for agents on 127.0.0.1:${port}: EADDRINUSE`));
  });
});

describe('joining a controller', () => {
  test('a wrong or missing token is refused with a clear message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-token-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    // The controller reads the token from a file; nobody with the right token comes.
    const { run, url } = await remoteRun({
      devices: 6,
      seconds: 6,
      expect: 1,
      start: 0,
      flags: ['--join-timeout', '8', '--token-file', tokenFile],
      env: { IVTFARM_AGENT_TOKEN: '' },
    });
    const wrong = startAgent(['--controller', url], { IVTFARM_AGENT_TOKEN: 'not-the-token' });
    assert.equal(await wrong.exited, 2);
    assert.match(wrong.output(), /refused this agent's token \(401\)/);
    assert.ok(!wrong.output().includes('not-the-token'));
    const missing = startAgent(['--controller', url], { IVTFARM_AGENT_TOKEN: '' });
    assert.equal(await missing.exited, 2);
    assert.match(missing.output(), /no agent token: set IVTFARM_AGENT_TOKEN/);
    const result = await run;
    assert.match(result.stderr, /refused: wrong or missing token/);
    assert.ok(!result.stderr.includes(TOKEN) && !result.stderr.includes('not-the-token'));
    assert.equal(result.code, 3, result.stderr);

    const noToken = await runCli(
      ['run', scenarioFile(dir, cameras(6, 6)), '--listen', '127.0.0.1:0', '--expect-agents', '1'],
      { env: { IVTFARM_AGENT_TOKEN: '' } },
    );
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /no agent token/);
  });

  test('fewer agents than expected: a clear error after the join timeout, and the agent that came exits', async () => {
    const started = Date.now();
    const { run, agents, out } = await remoteRun({
      devices: 6,
      seconds: 6,
      expect: 2,
      start: 1,
      flags: ['--join-timeout', '4'],
    });
    const result = await run;
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /only 1 of 2 agents joined within 4 s \(--join-timeout\); missing slices: 1/);
    assert.ok(Date.now() - started < 60_000);
    assert.equal(existsSync(out), false, 'no run directory for a run that never started');
    assert.equal(await agents[0]!.exited, 1);
    assert.match(agents[0]!.output(), /controller gone/);
  });
});
