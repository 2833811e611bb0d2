import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anyMix, runInline } from './farm-support.js';

test('2,000 NVRs × 4 channels ramp over 15 s against the embedded platform and every one ends online', async () => {
  const result = await runInline(
    `
name: scale-2000x4
target: embedded
devices:
  count: 2000
  login_code: "scale-{index:05}"
  mix: [{ weight: 1, kind: nvr, channels: 4 }]
  source_addresses: [127.0.4.0/29]
stages:
  - { duration: 15s, target: 2000 }
  - { duration: 4s, target: 2000 }
thresholds:
  "logins{result:ok}": ["count==2000"]
  "logins{result:failed}": ["count==0"]
  "logins{result:refused}": ["count==0"]
`,
  );
  const s = result.summary;
  assert.equal(s.metrics.gauges['devices{state:online}']?.max, 2000);
  assert.equal(anyMix(s.metrics.counters, 'logins{result:ok,reason:ok}'), 2000);
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
