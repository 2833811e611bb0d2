// Remote agents started by hand joining `run --listen … --expect-agents N` that die or fall
// silent mid-run; real processes over loopback.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { remoteRun, runDir, TOKEN } from './agents-support.js';

describe('remote agents', () => {
  test('three agents join --expect-agents 3; one killed mid-run: its devices lost, exit 97', async () => {
    const { run, agents, out } = await remoteRun({
      devices: 60,
      seconds: 18,
      expect: 3,
      start: 3,
      // Once all three joined and the load runs for a while, agent 1 dies without a word.
      onJoined: (started) => setTimeout(() => started[1]?.child.kill('SIGKILL'), 6000),
    });
    const result = await run;
    assert.equal(result.code, 97, result.stderr);
    assert.match(result.stderr, /agent 1 \(.*\) lost: connection closed.*its 20 devices are lost/);
    const summary = JSON.parse(readFileSync(join(runDir(out), 'summary.json'), 'utf8'));
    assert.equal(summary.run.verdict, 'fail');
    assert.deepEqual(
      summary.devices.lost.map((l: { who: string; devices: number }) => [l.who, l.devices]),
      [['agent 1', 20]],
    );
    assert.equal(await agents[0]!.exited, 0);
    assert.equal(await agents[2]!.exited, 0);
    for (const text of [result.stdout, result.stderr, ...agents.map((a) => a.output())])
      assert.ok(!text.includes(TOKEN), 'the token is never printed');
  });

  test('an agent that falls silent (SIGSTOP) is lost after --agent-timeout', async () => {
    const { run, agents } = await remoteRun({
      devices: 20,
      seconds: 16,
      expect: 2,
      start: 2,
      flags: ['--agent-timeout', '3'],
      onJoined: (started) => setTimeout(() => started[0]?.child.kill('SIGSTOP'), 5000),
    });
    const result = await run;
    agents[0]?.child.kill('SIGKILL');
    assert.equal(result.code, 97, result.stderr);
    assert.match(result.stderr, /agent 0 \(.*\) lost: silent for [3-9] s; its 10 devices are lost/);
    assert.equal(await agents[1]!.exited, 0);
  });
});
