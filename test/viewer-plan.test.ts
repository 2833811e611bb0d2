// Which players pull which stream, and when: the plan of a `viewers:` block and its ramp.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planDevices } from '../src/farm/plan.js';
import { groupTargetAt } from '../src/run/viewers.js';
import { planViewers, pushedStreams } from '../src/viewer/plan.js';
import { scenarioFrom } from './farm-support.js';

const { scenario } = scenarioFrom(`
target: embedded
seed: 7
devices:
  count: 12
  login_code: "cam {index}"
  mix: [{ weight: 1, kind: nvr, channels: 4 }]
  push: { url: "rtmp://127.0.0.1:1935/live/{login_code}-{channel}", quality: sd, channels: 2, fraction: 0.5 }
stages: [{ duration: 60s, target: 12 }]
viewers:
  - { url: "rtmp://127.0.0.1:1935/live/{login_code}-{channel}?q={quality}", per_stream: 2, start: 10s, ramp: 10s, duration: 20s }
  - { url: "http://127.0.0.1:8080/hls/{login_code}-{channel}.m3u8", fraction: 0.5 }
`);

test('players pull the streams the devices push: every stream once before any twice, a seeded fraction, templates filled', () => {
  const streams = pushedStreams(scenario.devices.push, scenario.seed, planDevices(scenario));
  // The seed chooses about half of the 12 devices, each pushing its first 2 channels.
  assert.ok(
    streams.length > 0 && streams.length < 24 && streams.length % 2 === 0,
    `${streams.length} streams`,
  );
  const [rtmp, hls] = planViewers(scenario, planDevices(scenario), null);
  assert.ok(rtmp && hls);
  assert.equal(rtmp.length, streams.length * 2);
  const first = rtmp.slice(0, streams.length);
  assert.equal(new Set(first).size, streams.length, 'the first round covers every stream once');
  assert.deepEqual(
    [...rtmp.slice(streams.length)].sort(),
    [...first].sort(),
    'the second round the same streams',
  );
  for (const s of streams)
    assert.ok(
      first.includes(`rtmp://127.0.0.1:1935/live/${encodeURIComponent(s.loginCode)}-${s.channel}?q=sd`),
    );
  assert.equal(hls.length, Math.round(streams.length / 2));
  assert.ok(
    hls.every((u) => /^http:\/\/127\.0\.0\.1:8080\/hls\/cam%20\d+-[01]\.m3u8$/.test(u)),
    hls.join(' '),
  );
  // Same seed, same choice.
  assert.deepEqual(planViewers(scenario, planDevices(scenario), null), [rtmp, hls]);
});

test('a group ramps its players from start over ramp, holds them for duration, then stops them', () => {
  const g = scenario.viewers[0]!;
  assert.equal(groupTargetAt(g, 40, 9_999), 0);
  assert.equal(groupTargetAt(g, 40, 15_000), 20);
  assert.equal(groupTargetAt(g, 40, 25_000), 40);
  assert.equal(groupTargetAt(g, 40, 39_999), 40);
  assert.equal(groupTargetAt(g, 40, 40_000), 0);
  // Without a duration, until the end of the run.
  assert.equal(groupTargetAt(scenario.viewers[1]!, 7, 59_000), 7);
});
