import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runScenario } from '../src/farm/coordinator.js';
import { ProgressDisplay } from '../src/farm/progress.js';
import { parseScenario } from '../src/scenario/load.js';

test('2,000 NVRs × 4 channels ramp over 30 s against the embedded platform and every one ends online', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-scale-'));
  const { scenario, problems } = parseScenario(
    `
name: scale-2000x4
target: embedded
devices:
  count: 2000
  login_code: "scale-{index:05}"
  mix: [{ weight: 1, kind: nvr, channels: 4 }]
  source_addresses: [127.0.4.0/29]
stages:
  - { duration: 30s, target: 2000 }
  - { duration: 6s, target: 2000 }
thresholds:
  "logins{result:ok}": ["count==2000"]
  "logins{result:failed}": ["count==0"]
  "logins{result:refused}": ["count==0"]
`,
    { file: join(dir, 'scale.yaml') },
  );
  assert.ok(scenario, JSON.stringify(problems));
  const result = await runScenario(scenario, {
    progress: new ProgressDisplay(process.stderr, 60_000, false),
    outputDir: join(dir, 'reports'),
  });
  const s = result.summary;
  assert.equal(s.metrics.gauges['devices{state:online}']?.max, 2000);
  assert.equal(s.metrics.counters['logins{result:ok,reason:ok}'], 2000);
  assert.equal(s.platform?.stats?.online !== undefined, true);
  assert.deepEqual(
    s.thresholds.map((t) => [t.metric, t.ok]),
    [
      ['logins{result:ok}', true],
      ['logins{result:failed}', true],
      ['logins{result:refused}', true],
    ],
  );
  assert.equal(result.exitCode, 0);
});
