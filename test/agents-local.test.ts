// Local agents: `run --agents N` and agents started because the plan needs more sockets than one
// process may hold; real agent processes over loopback.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chooseAgents, spreadLoopbackSources } from '../src/agent/choose.js';
import { fromWire } from '../src/agent/protocol.js';
import { planDevices } from '../src/farm/plan.js';
import { Aggregator } from '../src/metrics/aggregator.js';
import { cameras, readSeconds, runDir } from './agents-support.js';
import { runCli, scenarioFile, scenarioFrom } from './farm-support.js';

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
    // A standing push is a second socket per device: 10,000 pushing cameras need two processes.
    const pushing = (channels: number, url = 'rtmp://127.0.0.1:1935/live/{login_code}') => ({
      ...remote,
      devices: { push: { url, quality: 'ld', channels, fraction: 1 } },
    });
    assert.equal(chooseAgents(undefined, 10_000, pushing(1) as never, 2)?.expect, 2);
    assert.equal(chooseAgents(undefined, 7_000, pushing(1) as never, 2), null);
    assert.equal(chooseAgents(undefined, 5_000, pushing(4) as never, 2)?.expect, 2);
  });

  test('towards a loopback target no source address carries more than 5,000 devices', () => {
    const { scenario } = scenarioFrom(
      'name: s\ntarget: embedded\ndevices: { count: 60000, login_code: "d{index}" }\nstages: [{ duration: 1s, target: 1 }]\n',
    );
    const spread = spreadLoopbackSources(planDevices(scenario), 'ws://127.0.0.1:9/ivc');
    const perAddress = new Map<string | null, number>();
    for (const d of spread) perAddress.set(d.sourceAddress, (perAddress.get(d.sourceAddress) ?? 0) + 1);
    assert.equal(perAddress.size, 12);
    assert.ok(perAddress.has('127.0.0.2') && perAddress.has('127.0.0.13') && !perAddress.has(null));
    assert.ok([...perAddress.values()].every((n) => n <= 5_000));
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
