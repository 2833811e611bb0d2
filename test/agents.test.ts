// Agents as real processes over loopback: local agents started by `run --agents`, remote agents
// started by hand joining `run --listen … --expect-agents`, a killed agent, tokens, join timeouts.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { chooseAgents, spreadLoopbackSources } from '../src/agent/choose.js';
import { fromWire } from '../src/agent/protocol.js';
import { planDevices } from '../src/farm/plan.js';
import { Aggregator, fromJsonLine, type SecondSample } from '../src/metrics/aggregator.js';
import {
  type CliResult,
  runCli,
  type StartedCli,
  scenarioFile,
  scenarioFrom,
  startCli,
} from './farm-support.js';

const TOKEN = 'agent-Token-3f9c1e77';
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

type Agent = StartedCli;

function startAgent(args: string[], env: NodeJS.ProcessEnv): Agent {
  const agent = startCli(['agent', ...args], env);
  children.push(agent.child);
  return agent;
}

function cameras(count: number, seconds: number): string {
  return `
name: agents
seed: 7
target: embedded
devices:
  count: ${count}
  login_code: "agt-{index:03}"
  mix: [{ weight: 1, kind: camera, profile: spec }]
  startup_jitter: 1s
stages:
  - { duration: 3s, target: ${count} }
  - { duration: ${seconds - 3}s, target: ${count} }
`;
}

function runDir(out: string): string {
  const runs = readdirSync(out).filter((d) => existsSync(join(out, d, 'summary.json')));
  assert.equal(runs.length, 1, `one run directory in ${out}: ${runs.join(', ')}`);
  return join(out, runs[0]!);
}

function readSeconds(file: string): SecondSample[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => fromJsonLine(line));
}

describe('local agents', () => {
  test('run --agents 3: every device online, one summary and report, per-second p99 from exact bucket merges', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-agents-'));
    const out = join(dir, 'reports');
    const devices = 60;
    const result = await runCli([
      'run',
      scenarioFile(dir, cameras(devices, 16)),
      '--agents',
      '3',
      '-q',
      '-o',
      out,
      '--record-agent-deltas',
      dir,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /started 3 local agents/);
    const run = runDir(out);
    assert.ok(existsSync(join(run, 'report.html')));
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    assert.equal(summary.run.verdict, 'pass');
    assert.deepEqual(summary.devices.lost, []);
    const seconds = readSeconds(join(run, 'timeseries.jsonl'));
    const peakOnline = Math.max(...seconds.map((s) => s.gauges['devices{state:online}'] ?? 0));
    assert.equal(peakOnline, devices, 'every device of the three agents online at once');

    // The same deltas the agents sent, merged again in this process.
    const files = readdirSync(dir).filter((f) => /^agent-\d\.jsonl$/.test(f));
    assert.equal(files.length, 3);
    const offline = new Aggregator();
    const keepaliveSources = new Map<number, Set<string>>();
    for (const f of files) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)) {
        const delta = fromWire(JSON.parse(line));
        offline.add(delta);
        if (delta.histograms.keepalive_rtt) {
          const t = Math.floor((delta.from + delta.to) / 2000);
          keepaliveSources.set(t, (keepaliveSources.get(t) ?? new Set()).add(f));
        }
      }
    }
    const expected = new Map(offline.closeAll().map((s) => [s.t, s.histograms.keepalive_rtt]));
    const live = seconds.filter((s) => s.histograms.keepalive_rtt);
    assert.ok(live.length >= 3, `keepalives in at least 3 seconds (got ${live.length})`);
    // At least one second merges keepalives of several agents: otherwise a merge would not be tested.
    const merged = live.filter((s) => (keepaliveSources.get(s.t)?.size ?? 0) >= 2);
    assert.ok(merged.length >= 1, 'some second holds keepalives of two or more agents');
    for (const s of live) {
      const want = expected.get(s.t);
      assert.ok(want, `second ${s.t} exists in the offline merge`);
      assert.equal(s.histograms.keepalive_rtt!.count, want.count, `second ${s.t}: count`);
      assert.equal(s.histograms.keepalive_rtt!.p99, want.p99, `second ${s.t}: p99`);
      assert.equal(s.histograms.keepalive_rtt!.max, want.max, `second ${s.t}: max`);
    }
  });
  test('a threshold with abort_on_fail stops a fleet of agents from the live per-second view', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-agents-abort-'));
    const out = join(dir, 'reports');
    const yaml = `${cameras(30, 40)}thresholds:\n  "logins{result:ok}": [{ threshold: "count<10", abort_on_fail: true }]\n`;
    const started = Date.now();
    const result = await runCli(['run', scenarioFile(dir, yaml), '--agents', '2', '-q', '-o', out]);
    assert.equal(result.code, 99, result.stderr);
    const summary = JSON.parse(readFileSync(join(runDir(out), 'summary.json'), 'utf8'));
    assert.equal(summary.run.stop_reason, 'aborted');
    assert.ok(summary.run.duration_s < 35, `stopped early (ran ${summary.run.duration_s} s of 40)`);
    assert.ok(Date.now() - started < 120_000);
  });
});

describe('when local agents start by themselves', () => {
  const remote = { target: { kind: 'remote', url: 'ws://127.0.0.1:9/ivc' } } as const;
  const embedded = { target: { kind: 'embedded' } } as const;

  test('more device sockets than one process may hold → as many agents as needed', () => {
    assert.equal(chooseAgents(undefined, 15_000, remote as never, 2), null);
    assert.equal(chooseAgents(undefined, 60_000, remote as never, 2)?.expect, 4);
    // The embedded platform holds the other end of every device in this process too.
    assert.equal(chooseAgents(undefined, 9_000, embedded as never, 2)?.expect, 1);
    assert.equal(chooseAgents({ devicesPerProcess: 1000 }, 2500, remote as never, 2)?.expect, 3);
    assert.equal(chooseAgents({ localAgents: 0 }, 60_000, remote as never, 2), null);
    assert.equal(chooseAgents({ localAgents: 2 }, 10, remote as never, 2)?.expect, 2);
  });

  test('towards a loopback target no source address carries more than 20,000 devices', () => {
    const { scenario } = scenarioFrom(
      'name: s\ntarget: embedded\ndevices: { count: 60000, login_code: "d{index}" }\nstages: [{ duration: 1s, target: 1 }]\n',
    );
    const spread = spreadLoopbackSources(planDevices(scenario), 'ws://127.0.0.1:9/ivc');
    const perAddress = new Map<string | null, number>();
    for (const d of spread) perAddress.set(d.sourceAddress, (perAddress.get(d.sourceAddress) ?? 0) + 1);
    assert.deepEqual([...perAddress.keys()].sort(), ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    assert.ok([...perAddress.values()].every((n) => n <= 20_000));
    const remoteTarget = spreadLoopbackSources(planDevices(scenario), 'ws://10.1.2.3:9/ivc');
    assert.ok(
      remoteTarget.every((d) => d.sourceAddress === null),
      'only loopback targets are spread',
    );
  });

  test('--devices-per-process below the plan starts agents without --agents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-auto-'));
    const out = join(dir, 'reports');
    const result = await runCli([
      'run',
      scenarioFile(dir, cameras(30, 8)),
      '--devices-per-process',
      '20',
      '-q',
      '-o',
      out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    // 30 devices and their 30 platform ends do not fit 20 per process: two agents of 15.
    assert.match(result.stderr, /started 2 local agents/);
    const summary = JSON.parse(readFileSync(join(runDir(out), 'summary.json'), 'utf8'));
    assert.equal(summary.devices.workers, 2);
    assert.equal(summary.metrics.counters.devices_reached_online, 30);
  });
});

interface RemoteRun {
  run: Promise<CliResult>;
  /** Where the agents join. */
  url: string;
  agents: Agent[];
  out: string;
}

/**
 * `run --listen` on a free port expecting `expect` agents, and `start` agents started by hand
 * (slices 0, 1, …); `onJoined` is called once every expected agent joined.
 */
async function remoteRun(options: {
  devices: number;
  seconds: number;
  expect: number;
  start: number;
  flags?: string[];
  env?: NodeJS.ProcessEnv;
  onJoined?: (agents: Agent[]) => void;
}): Promise<RemoteRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-remote-'));
  const port = await freePort();
  const env = options.env ?? { IVTFARM_AGENT_TOKEN: TOKEN };
  const agents: Agent[] = [];
  const out = join(dir, 'reports');
  let joined = false;
  const all = new RegExp(`joined .*\\(${options.expect}/${options.expect}\\)`);
  const run = runCli(
    [
      'run',
      scenarioFile(dir, cameras(options.devices, options.seconds)),
      '--listen',
      `127.0.0.1:${port}`,
      '--expect-agents',
      String(options.expect),
      ...(options.flags ?? []),
      '-q',
      '-o',
      out,
    ],
    {
      env,
      onStderr: (text) => {
        if (!joined && all.test(text)) {
          joined = true;
          options.onJoined?.(agents);
        }
      },
    },
  );
  for (let i = 0; i < options.start; i++)
    agents.push(startAgent(['--controller', `ws://127.0.0.1:${port}`, '--slice', String(i)], env));
  return { run, agents, out, url: `ws://127.0.0.1:${port}` };
}

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

describe('remote agents', () => {
  test('three agents join --expect-agents 3; one killed mid-run: its devices lost, exit 97', async () => {
    const { run, agents, out } = await remoteRun({
      devices: 60,
      seconds: 24,
      expect: 3,
      start: 3,
      // Once all three joined and the load runs for a while, agent 1 dies without a word.
      onJoined: (started) => setTimeout(() => started[1]?.child.kill('SIGKILL'), 7000),
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
