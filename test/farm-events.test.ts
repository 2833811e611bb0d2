import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anyMix, runInline } from './farm-support.js';

test('timed events: disconnect, reboot and upgrade storms, a platform SyncTime, an alarm storm', async () => {
  const result = await runInline(
    `
name: farm-events
target: embedded
seed: 9
devices:
  count: 40
  login_code: "ev-{index:02}"
  mix:
    - { weight: 1, kind: camera }
    - { weight: 1, kind: nvr, channels: 4 }
stages:
  - { duration: 1s, target: 40 }
  - { duration: 13s, target: 40 }
events:
  - { at: 3s, disconnect: { fraction: 0.5, reconnect_after: 1s } }
  - { at: 6s, reboot: { fraction: 0.25, downtime: 1s } }
  - { at: 8s, upgrade: { fraction: 1, firmware_model: ev-fw-2.0, duration: 1s } }
  - { at: 9s, alarms: { per_channel: "1/s", types: { tripwire: 1 }, duration: 1s } }
platform:
  events:
    - { at: 2s, event: SyncTime, fraction: 1 }
thresholds:
  "logins{result:ok}": ["count>=60"]
`,
  );
  const s = result.summary;
  const c = s.metrics.counters;
  // Half of the 40 online devices were cut by the farm (labelled "scenario", not a platform fault)…
  assert.equal(anyMix(c, 'disconnects{reason:scenario}'), 20);
  // …a quarter of the online ones rebooted, and every one upgraded (GetFirmware → download → reconnect).
  assert.equal(anyMix(c, 'disconnects{reason:reboot}'), 10);
  assert.ok(
    (anyMix(c, 'disconnects{reason:upgrade}') ?? 0) >= 30,
    `upgrades: ${anyMix(c, 'disconnects{reason:upgrade}')}`,
  );
  // Each firmware check's outcome reaches the summary (the device observer's firmwareChecked).
  assert.ok(
    (c['firmware_checks{result:upgraded}'] ?? 0) >= 30,
    `firmware: ${c['firmware_checks{result:upgraded}']}`,
  );
  const stats = s.platform?.stats as { firmware_downloads?: number } | undefined;
  assert.ok((stats?.firmware_downloads ?? 0) >= 30);
  assert.equal(anyMix(c, 'events_received{event:SyncTime}'), 40);
  assert.ok((anyMix(c, 'events_received{event:UpgradeFirmware}') ?? 0) >= 30);
  // Everybody came back: one login each at the start, plus one after each storm.
  assert.ok((anyMix(c, 'logins{result:ok,reason:ok}') ?? 0) >= 40 + 20 + 10 + 30);
  assert.equal(s.metrics.gauges['devices{state:online}']?.max, 40);
  // The alarm storm: tripwire only, from 9 s on.
  assert.ok(
    (anyMix(c, 'alarms{type:tripwire}') ?? 0) > 20,
    `tripwire alarms: ${anyMix(c, 'alarms{type:tripwire}')}`,
  );
  assert.equal(anyMix(c, 'alarms{type:motion}'), undefined);
  for (const reason of ['timeout', 'seq_mismatch', 'malformed'])
    assert.equal(anyMix(c, `disconnects{reason:${reason}}`), undefined);
  assert.equal(result.exitCode, 0);
});
