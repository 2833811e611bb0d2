// One run lifecycle: whatever throws once the platform started, the run closes everything it
// opened (platform, workers, sockets, timers) in reverse order and rethrows.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runScenario } from '../src/farm/coordinator.js';
import { ProgressDisplay } from '../src/farm/progress.js';
import { RunRefused } from '../src/run/exit-codes.js';
import type { RunObserver } from '../src/run/observer.js';
import { runCli, scenarioFile, scenarioFrom } from './farm-support.js';
import { handles, handlesSettle } from './handles-support.js';

const yaml = `
name: lifecycle
target: embedded
devices: { count: 6, login_code: "lc-{index:03}" }
stages:
  - { duration: 1s, target: 6 }
  - { duration: 20s, target: 6 }
workers: 2
`;

function quietProgress(logs: string[]): ProgressDisplay {
  const progress = new ProgressDisplay(process.stderr, 60_000, false);
  progress.log = (m: string) => {
    logs.push(m);
  };
  return progress;
}

async function refusesConnections(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/api/devices`).then(
    () => false,
    () => true,
  );
}

describe('run lifecycle', () => {
  for (const where of ['start', 'second'] as const) {
    test(`an observer that throws in ${where}() after the platform started: the run rethrows and leaves nothing behind`, async () => {
      const { scenario, dir } = scenarioFrom(yaml, 'lifecycle');
      const before = handles();
      const logs: string[] = [];
      let seconds = 0;
      const failing: RunObserver = {
        start() {
          if (where === 'start') throw new Error('observer failed at start');
        },
        second(tick) {
          if (where === 'second' && (tick.sample.gauges['devices{state:online}'] ?? 0) > 0 && ++seconds >= 2)
            throw new Error('observer failed mid-run');
          return undefined;
        },
      };
      await assert.rejects(
        runScenario(scenario, {
          progress: quietProgress(logs),
          outputDir: join(dir, 'reports'),
          observers: [failing],
        }),
        where === 'start' ? /observer failed at start/ : /observer failed mid-run/,
      );
      const port = Number(/embedded reference IVC on http:\/\/127\.0\.0\.1:(\d+)/.exec(logs.join('\n'))?.[1]);
      assert.ok(port > 0, logs.join('\n'));
      assert.ok(await refusesConnections(port), 'the platform is closed');
      assert.deepEqual(await handlesSettle(before, 10_000), [], 'no socket, server, timer or worker left');
    });
  }

  test('a taken --metrics-port refuses the run before the platform starts: no run directory, nothing left open', async () => {
    const taken: Server = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (taken.address() as { port: number }).port;
    try {
      const { scenario, dir } = scenarioFrom(yaml, 'lifecycle');
      const before = handles();
      const logs: string[] = [];
      const out = join(dir, 'reports');
      await assert.rejects(
        runScenario(scenario, { progress: quietProgress(logs), outputDir: out, metricsPort: port }),
        (error: unknown) =>
          error instanceof RunRefused &&
          error.exitCode === 2 &&
          /--metrics-port \d+: the port is already in use/.test(error.message),
      );
      assert.deepEqual(logs, [], 'the platform never started');
      assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no run directory');
      assert.deepEqual(await handlesSettle(before, 10_000), []);

      const cliDir = mkdtempSync(join(tmpdir(), 'ivtfarm-lifecycle-'));
      const cliOut = join(cliDir, 'reports');
      const r = await runCli([
        'run',
        scenarioFile(cliDir, yaml),
        '--out',
        cliOut,
        '--metrics-port',
        String(port),
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^ivtfarm: --metrics-port ${port}: the port is already in use on 127\\.0\\.0\\.1`, 'm'),
      );
      assert.doesNotMatch(r.stderr, /EADDRINUSE|embedded reference IVC/);
      assert.ok(!existsSync(cliOut), 'no run directory');
    } finally {
      taken.close();
    }
  });
});
