// `viewers:` in a scenario, end to end: devices push to a real server (nginx-rtmp, or the embedded
// reference ingest), players in their own thread pull the streams back, and what they saw lands in
// the run's metrics, summary.json, the console summary and the report — including a server that
// freezes for 3 s (SIGSTOP/SIGCONT), and the limit finder's `viewers` mode.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatSummary } from '../src/report/console.js';
import { writeRunReports } from '../src/report/index.js';
import { DEFAULT_CHECKS, evaluateChecks } from '../src/run/checks.js';
import type { RunObserver, SecondTick } from '../src/run/observer.js';
import { parseScenario } from '../src/scenario/load.js';
import { eventually } from '../support/eventually.js';
import { freePort, nginxAvailable, startNginxRtmp } from '../support/nginx-rtmp.js';
import { runInline } from './farm-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The head of a scenario: `count` one-channel cameras on the embedded target, each pushing ld to `push`. */
function pushingCameras(name: string, count: number, push: string): string {
  return `
name: ${name}
target: embedded
devices:
  count: ${count}
  login_code: "${name}-{index:02}"
  mix: [{ weight: 1, kind: camera, channels: 1 }]
  push: { url: "${push}", quality: ld }
`;
}

/** Keeps each closed second's viewer figures: players playing, delay p99, stalls. */
class ViewerSeconds implements RunObserver {
  readonly seconds: Array<{ playing: number; delayP99: number | null; stalls: number }> = [];
  second({ sample }: SecondTick): undefined {
    const sum = (o: Record<string, number>, name: string) =>
      Object.entries(o)
        .filter(([k]) => k.startsWith(name))
        .reduce((n, [, v]) => n + v, 0);
    const p99 = Object.entries(sample.histograms)
      .filter(([k]) => k.startsWith('viewer_delay{kind:rtmp}'))
      .map(([, h]) => h.p99);
    this.seconds.push({
      playing: sum(sample.gauges, 'viewers_playing'),
      delayP99: p99.length > 0 ? Math.max(...p99) : null,
      stalls: sum(sample.counters, 'viewer_stalls'),
    });
    return undefined;
  }
  get last() {
    return this.seconds.at(-1);
  }
}

test('10 devices push to nginx-rtmp, 30 RTMP + 10 HLS viewers pull them back; nginx frozen 3 s shows as stalls and a delay spike', async (t) => {
  if (!nginxAvailable()) return t.skip('nginx with libnginx-mod-rtmp is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'ivtfarm-viewer-scenario-'));
  const nginx = await startNginxRtmp(dir, { hls: { fragmentSeconds: 1, playlistSeconds: 6 } });
  const watch = new ViewerSeconds();
  try {
    const run = runInline(
      `${pushingCameras('viewers-nginx', 10, `rtmp://127.0.0.1:${nginx.port}/live/{login_code}-{channel}`)}
stages:
  - { duration: 1s, target: 10 }
  - { duration: 40s, target: 10 }
viewers:
  - { url: "rtmp://127.0.0.1:${nginx.port}/live/{login_code}-{channel}", per_stream: 3, start: 3s, ramp: 2s }
  - { url: "http://127.0.0.1:${nginx.httpPort}/hls/{login_code}-{channel}.m3u8", start: 6s, live_edge_segments: 1 }
thresholds:
  "viewer_ttff{kind:rtmp}": ["p(95)<10000"]
  "viewer_stalls{kind:rtmp}": ["count<1"]
`,
      { observers: [watch] },
    );
    await eventually(
      '40 players playing for 3 s',
      () => watch.seconds.slice(-3).every((s) => s.playing === 40) && watch.seconds.length >= 3,
      60_000,
    );
    const steady = watch.seconds.filter((s) => s.delayP99 !== null).map((s) => s.delayP99!);
    nginx.process.kill('SIGSTOP');
    await sleep(3000);
    nginx.process.kill('SIGCONT');
    const { summary, exitCode, dir: runDir } = await run;

    const rtmp = summary.viewers?.rtmp;
    const hls = summary.viewers?.hls;
    assert.ok(rtmp && hls, `viewers by protocol: ${Object.keys(summary.viewers ?? {})}`);
    assert.equal(rtmp.players_max, 30);
    assert.equal(hls.players_max, 10);
    assert.deepEqual(rtmp.failures, {}, 'no RTMP player failed');
    // Every RTMP player froze with the server: one stall each of about the pause (1 s buffer).
    assert.ok(rtmp.stalls >= 30, `rtmp stalls ${rtmp.stalls}`);
    assert.ok(rtmp.stall_ms && rtmp.stall_ms.max >= 2500, `rtmp stall max ${rtmp.stall_ms?.max} ms`);
    // The delay spike: the frames held during the pause arrive ≥ 2.5 s late; before it, far less.
    assert.ok(rtmp.delay_ms && rtmp.delay_ms.max >= 2500, `rtmp delay max ${rtmp.delay_ms?.max} ms`);
    assert.ok(Math.min(...steady) < 1500, `steady delay p99 per second ${steady}`);
    assert.ok(
      watch.seconds.some((s) => (s.delayP99 ?? 0) >= 2500),
      'a second whose delay p99 shows the pause',
    );
    assert.ok(hls.delay_ms && hls.delay_ms.count > 0 && hls.ttff_ms && hls.ttff_ms.count >= 10);
    assert.ok(rtmp.bitrate_bps !== null && rtmp.bitrate_bps > 150_000, `rtmp ${rtmp.bitrate_bps} bit/s`);
    // The stall threshold failed, so the run did (exit 99), and says why.
    assert.equal(exitCode, 99);
    assert.ok(summary.thresholds.some((r) => r.metric === 'viewer_stalls{kind:rtmp}' && !r.ok));
    const text = formatSummary(summary);
    assert.match(text, /viewers rtmp\s+30 playing at most .* stalls \d+/);
    assert.match(text, /viewer_delay\{kind:hls\}/);
    const html = readFileSync((await writeRunReports(runDir, ['html'])).html!, 'utf8');
    for (const id of ['viewer-delay', 'viewer-stalls']) assert.ok(html.includes(`"id":"${id}"`), id);
  } finally {
    nginx.process.kill('SIGCONT');
    await nginx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('embedded platform: RTMP play and HTTP-FLV of its ingest pulled by viewers; Prometheus, charts in the report', async () => {
  const metricsPort = await freePort();
  const run = runInline(
    `${pushingCameras('viewers-embedded', 3, 'embedded')}
stages:
  - { duration: 1s, target: 3 }
  - { duration: 14s, target: 3 }
viewers:
  - { url: embedded, protocol: rtmp, per_stream: 2, start: 2s }
  - { url: embedded, protocol: http-flv, start: 2s }
thresholds:
  "viewer_delay{kind:http-flv}": [{ threshold: "p(95)<2000", during: 5s..15s }]
`,
    { metricsPort },
  );
  // Prometheus while the run goes: the players playing and their delay, per protocol.
  let scraped = '';
  await eventually(
    'Prometheus shows 3 HTTP-FLV players and their delay',
    async () => {
      scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      return /ivtfarm_viewers_playing\{kind="http-flv"\} 3\b/.test(scraped);
    },
    30_000,
    250,
  );
  assert.match(scraped, /ivtfarm_viewer_delay_seconds_count\{kind="http-flv"\} [1-9]/);
  const { summary, dir } = await run;
  assert.equal(summary.viewers?.rtmp?.players_max, 6);
  assert.equal(summary.viewers?.['http-flv']?.players_max, 3);
  assert.deepEqual(summary.viewers?.['http-flv']?.failures, {});
  assert.ok((summary.viewers?.['http-flv']?.delay_ms?.count ?? 0) >= 15);
  const during = summary.thresholds.find((r) => r.metric === 'viewer_delay{kind:http-flv}');
  assert.ok(during?.ok && during.observed !== null, JSON.stringify(during));
  const viewersLost = summary.checks?.find((c) => c.name === 'viewers lost');
  assert.deepEqual(
    [viewersLost?.ok, viewersLost?.reason],
    [true, 'no player was lost to a crashed viewer thread'],
  );
  const files = await writeRunReports(dir, ['html']);
  const html = readFileSync(files.html!, 'utf8');
  // No stall, no stall chart (the nginx test has one).
  for (const id of ['viewer-delay', 'viewer-ttff', 'viewers']) assert.ok(html.includes(`"id":"${id}"`), id);
});

test('a viewer thread that crashes fails the verdict: its players are counted lost (checks.lost_viewers)', async () => {
  const { summary, exitCode } = await runInline(
    `${pushingCameras('viewers-crash', 2, 'embedded')}
stages:
  - { duration: 1s, target: 2 }
  - { duration: 4s, target: 2 }
viewers:
  - { url: embedded, protocol: rtmp, per_stream: 2, start: 1s }
`,
    { crashViewerThreads: { 0: 2500 } },
  );
  assert.equal(exitCode, 99);
  const lost = summary.checks?.find((c) => c.name === 'viewers lost');
  assert.equal(lost?.ok, false);
  assert.equal(lost?.reason, '4 players lost: viewer thread 0 crashed (injected viewer thread crash)');
  assert.ok(lost && summary.run.reasons?.includes(lost.reason), JSON.stringify(summary.run.reasons));
  // Devices were fine: only the viewers' check fails.
  assert.ok(summary.checks?.filter((c) => c.name !== 'viewers lost').every((c) => c.ok));
  // `checks.lost_viewers: false` shows the check as off, never judged.
  const off = evaluateChecks({
    checks: { ...DEFAULT_CHECKS, lostViewers: false },
    counters: new Map(),
    lost: [],
    lostViewers: [{ thread: 0, players: 4, error: 'x' }],
    capacitySearch: false,
  }).find((c) => c.name === 'viewers lost');
  assert.deepEqual([off?.ok, off?.skipped, off?.reason], [true, true, 'off (checks.lost_viewers: false)']);
});

test('capacity mode viewers: steps players until a server that runs out of connections breaks, and names the capacity', async (t) => {
  if (!nginxAvailable()) return t.skip('nginx with libnginx-mod-rtmp is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'ivtfarm-viewer-capacity-'));
  // 24 connections: the listener, 4 publishers, room for about 19 players.
  const nginx = await startNginxRtmp(dir, { workerConnections: 24 });
  try {
    const { summary } =
      await runInline(`${pushingCameras('viewers-capacity', 4, `rtmp://127.0.0.1:${nginx.port}/live/{login_code}`)}
viewers:
  - { url: "rtmp://127.0.0.1:${nginx.port}/live/{login_code}", per_stream: 10, first_frame_timeout: 4s }
capacity:
  mode: viewers
  start: 8
  step: 8
  max: 40
  ramp: 3s
  hold: 5s
  sustain: 3s
`);
    const cap = summary.capacity;
    assert.ok(cap, 'a capacity section');
    assert.equal(cap.mode, 'viewers');
    assert.equal(cap.unit, 'viewers');
    assert.equal(cap.ended, 'broken', JSON.stringify(cap.steps.map((s) => [s.level, s.broken])));
    assert.ok(cap.capacity !== null && cap.capacity >= 8 && cap.capacity <= 16, `capacity ${cap.capacity}`);
    assert.ok(cap.broke_at !== null && cap.broke_at >= 16 && cap.broke_at <= 24, `broke at ${cap.broke_at}`);
  } finally {
    await nginx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('viewers: mistakes are named by file, field and line', () => {
  const text = `devices:
  count: 2
stages: [{ duration: 5s, target: 2 }]
viewers:
  - { url: "rtmp://127.0.0.1:1935/live/{device}" }
  - { url: "http://127.0.0.1:8080/live/{login_code}.flv", protocol: rtmp }
  - url: "rtmp://127.0.0.1:1935/live/{login_code}"
    live_edge_segments: 2
capacity: { mode: viewers, start: 1, step: 1 }
`;
  const { problems } = parseScenario(text, { file: '/tmp/v.yaml' });
  const at = (path: string) => problems.find((p) => p.path === path);
  assert.equal(at('viewers')?.line, 4, 'no devices.push: nothing to pull');
  assert.match(at('viewers')?.message ?? '', /devices\.push/);
  assert.equal(at('viewers[0].url')?.line, 5);
  assert.match(at('viewers[0].url')?.message ?? '', /unknown placeholder \{device\}/);
  assert.equal(at('viewers[1].protocol')?.line, 6);
  assert.equal(at('viewers[2].live_edge_segments')?.line, 8);
  assert.ok(problems.every((p) => p.file === '/tmp/v.yaml'));
  // `capacity` with `stages` is refused too, but the viewers mode itself is accepted with players.
  assert.ok(!problems.some((p) => p.path === 'capacity.mode'));
});
