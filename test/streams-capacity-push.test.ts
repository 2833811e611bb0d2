import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseScenario } from '../src/scenario/load.js';
import { nginxAvailable, startNginxRtmp } from '../support/nginx-rtmp.js';
import { runInline } from './farm-support.js';

// Streams capacity of a bare RTMP server (nginx-rtmp, nobody here wrote it): no platform orders
// the streams, the devices push them by themselves (`devices.push`), and the staircase steps the
// devices — two streams each — until the server refuses publishers.

function scenario(port: number | string, extra = ''): string {
  return `
name: streams-capacity-push
target: embedded
devices:
  count: 20
  login_code: "scp-{index:02}"
  mix: [{ weight: 1, kind: nvr, channels: 4 }]
  push: { url: "rtmp://127.0.0.1:${port}/live/{login_code}-{channel}", quality: ld, channels: 2 }
capacity:
  mode: streams
  start: 8
  step: 8
  max: 40
  ramp: 2s
  hold: 8s
  sustain: 3s
${extra}`;
}

test('streams capacity by standing pushes against nginx-rtmp: the devices climb until the server runs out of connections', async (t) => {
  if (!nginxAvailable()) return t.skip('nginx with libnginx-mod-rtmp is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'ivtfarm-streams-push-'));
  // 24 connections: the listener and about 23 publishers.
  const nginx = await startNginxRtmp(dir, { workerConnections: 24 });
  try {
    const { summary } = await runInline(scenario(nginx.port));
    const cap = summary.capacity;
    assert.ok(cap, 'a capacity section');
    assert.equal(cap.unit, 'streams');
    const steps = JSON.stringify(cap.steps.map((s) => [s.level, s.held, s.broken, s.no_data]));
    assert.equal(cap.ended, 'broken', steps);
    assert.ok(
      cap.capacity !== null && cap.capacity >= 8 && cap.capacity <= 16,
      `capacity ${cap.capacity} ${steps}`,
    );
    assert.ok(cap.broke_at !== null && cap.broke_at >= 16 && cap.broke_at <= 24, `broke at ${cap.broke_at}`);
    const held = cap.steps.find((s) => s.level === cap.capacity)!;
    assert.ok((held.observed['streams_live >= 99%'] ?? 0) >= 0.99, JSON.stringify(held.observed));
  } finally {
    await nginx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('streams capacity by standing pushes: a mix pushing unequal counts, or a partial push, is a located error', () => {
  const mixed = scenario(1935).replace(
    'mix: [{ weight: 1, kind: nvr, channels: 4 }]',
    'mix: [{ weight: 1, kind: nvr, channels: 4 }, { weight: 1, kind: camera }]',
  );
  const problemAt = (text: string, path: string) =>
    parseScenario(text, { file: 'f.yaml' }).problems.find((p) => p.path === path);
  const mix = problemAt(mixed, 'devices.mix');
  assert.equal(mix?.line, 7);
  assert.match(mix?.message ?? '', /pushes 2 or 1/);
  const partial = scenario(1935).replace('channels: 2 }', 'channels: 2, fraction: 0.5 }');
  assert.equal(problemAt(partial, 'devices.push.fraction')?.line, 8);
  const tooMany = problemAt(scenario(1935).replace('max: 40', 'max: 48'), 'capacity.max');
  assert.match(tooMany?.message ?? '', /20 × 2 = 40/);
  // Shorter than a stream's first bitrate sample after the ramp: the step could never be judged.
  const short = problemAt(scenario(1935).replace('hold: 8s', 'hold: 5s'), 'capacity.hold');
  assert.match(short?.message ?? '', /bitrate_achieved_ratio.*first measured 5 s after/);
  assert.equal(short?.line, 15);
});
