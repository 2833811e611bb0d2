// Our publisher → nginx-rtmp (Debian's module: live, play, HLS served by the same nginx) → players
// over RTMP and HLS, as a user of a real server would watch. Checks what a viewer notices: the
// picture starts, arrives late by a plausible amount, freezes when the server does, and carries a
// clock (in the bitstream, and burnt into the picture).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { seriesKey } from '../src/metrics/labels.js';
import type { Viewer } from '../src/viewer/types.js';
import { eventually } from '../support/eventually.js';
import { nginxAvailable, startNginxRtmp } from '../support/nginx-rtmp.js';
import {
  Audience,
  execFileAsync,
  ldMedia,
  meanDiff,
  Publishers,
  secondsDigitPixels,
  waitForHttp200,
} from './viewer-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const everyHas = (vs: Viewer[], clocks: number) => () => vs.every((v) => v.stats().clocks >= clocks);

test('publisher → nginx-rtmp → 6 RTMP and 4 HLS players: first frame, delay and bitrate plausible, recorded as metrics', async (t) => {
  if (!nginxAvailable()) return t.skip('nginx with libnginx-mod-rtmp is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'ivtfarm-viewers-nginx-'));
  const nginx = await startNginxRtmp(dir, { hls: { fragmentSeconds: 1, playlistSeconds: 6 } });
  const pubs = new Publishers();
  const audience = new Audience();
  try {
    const media = await ldMedia();
    const names = ['cam0', 'cam1'];
    await pubs.start(
      names.map((n) => `rtmp://127.0.0.1:${nginx.port}/live/${n}`),
      media,
    );
    for (const n of names) await waitForHttp200(`http://127.0.0.1:${nginx.httpPort}/hls/${n}.m3u8`, 20_000);
    for (const n of names) {
      for (let i = 0; i < 3; i++) audience.add('rtmp', { url: `rtmp://127.0.0.1:${nginx.port}/live/${n}` });
      for (let i = 0; i < 2; i++)
        audience.add('hls', { url: `http://127.0.0.1:${nginx.httpPort}/hls/${n}.m3u8` });
    }
    await Promise.all(audience.viewers.map((v) => v.start()));
    await eventually('every player saw 4 stamped key frames', everyHas(audience.viewers, 4), 60_000);

    for (const v of audience.of('rtmp')) {
      const s = v.stats();
      // nginx-rtmp keeps no GOP: a player waits for the next key frame (GOP 1 s) after connecting.
      assert.ok(s.ttffMs !== null && s.ttffMs < 5000, `rtmp ttff ${s.ttffMs} ms`);
      assert.ok(
        s.delayLastMs !== null && s.delayLastMs >= 0 && s.delayLastMs < 2000,
        `rtmp delay ${s.delayLastMs} ms`,
      );
      assert.ok(
        s.bitrate > media.bitrate * 0.7 && s.bitrate < media.bitrate * 1.6,
        `rtmp ${s.bitrate} bit/s`,
      );
      assert.ok(
        s.keyFrames >= 4 && s.clocks === s.keyFrames,
        `${s.clocks} clocks on ${s.keyFrames} key frames`,
      );
    }
    for (const v of audience.of('hls')) {
      const s = v.stats();
      assert.ok(s.ttffMs !== null && s.ttffMs < 10_000, `hls ttff ${s.ttffMs} ms`);
      // A frame reaches an HLS player only after its 1 s fragment was closed and listed.
      assert.ok(
        s.delayLastMs !== null && s.delayLastMs > 500 && s.delayLastMs < 15_000,
        `hls delay ${s.delayLastMs} ms`,
      );
      assert.ok(s.clocks === s.keyFrames, `${s.clocks} clocks on ${s.keyFrames} key frames`);
    }
    const d = audience.registry.takeDelta();
    assert.equal(d.histograms[seriesKey('viewer_ttff', { kind: 'rtmp' })]?.count, 6);
    assert.equal(d.histograms[seriesKey('viewer_ttff', { kind: 'hls' })]?.count, 4);
    assert.ok((d.histograms[seriesKey('viewer_delay', { kind: 'rtmp' })]?.count ?? 0) >= 24);
    assert.ok((d.histograms[seriesKey('viewer_delay', { kind: 'hls' })]?.count ?? 0) >= 16);
    assert.ok((d.counters[seriesKey('viewer_bytes', { kind: 'hls' })] ?? 0) > 4 * 4 * 30_000);
    assert.equal(d.gauges[seriesKey('viewers_playing', { kind: 'rtmp' })], 6);
    await audience.stop();
    assert.equal(audience.registry.takeDelta().gauges[seriesKey('viewers_playing', { kind: 'rtmp' })], 0);
  } finally {
    await audience.stop();
    await pubs.stop();
    await nginx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('nginx-rtmp paused for 3 s (SIGSTOP/SIGCONT): RTMP and HLS players record a stall and a delay spike', async (t) => {
  if (!nginxAvailable()) return t.skip('nginx with libnginx-mod-rtmp is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'ivtfarm-viewers-pause-'));
  const nginx = await startNginxRtmp(dir, { hls: { fragmentSeconds: 1, playlistSeconds: 6 } });
  const pubs = new Publishers();
  const audience = new Audience();
  try {
    await pubs.start([`rtmp://127.0.0.1:${nginx.port}/live/cam`], await ldMedia());
    await waitForHttp200(`http://127.0.0.1:${nginx.httpPort}/hls/cam.m3u8`, 20_000);
    audience.add('rtmp', { url: `rtmp://127.0.0.1:${nginx.port}/live/cam` });
    audience.add('rtmp', { url: `rtmp://127.0.0.1:${nginx.port}/live/cam` });
    // Starting at the live edge leaves one fragment of buffer, less than the pause.
    audience.add('hls', { url: `http://127.0.0.1:${nginx.httpPort}/hls/cam.m3u8`, liveEdgeSegments: 1 });
    await Promise.all(audience.viewers.map((v) => v.start()));
    await eventually('players running', everyHas(audience.viewers, 3), 60_000);
    const before = audience.viewers.map((v) => v.stats());
    audience.registry.takeDelta();

    nginx.process.kill('SIGSTOP');
    await sleep(3000);
    nginx.process.kill('SIGCONT');
    const clocks = before.map((s) => s.clocks);
    await eventually(
      'players running again',
      () => audience.viewers.every((v, i) => v.stats().clocks >= (clocks[i] as number) + 4),
      60_000,
    );

    audience.viewers.forEach((v, i) => {
      const s = v.stats();
      const b = before[i] as (typeof before)[number];
      assert.ok(s.stalls > b.stalls, `${v.protocol}: stalls ${b.stalls} → ${s.stalls}`);
      assert.ok(s.stallMs - b.stallMs >= 1500, `${v.protocol}: ${s.stallMs - b.stallMs} ms stalled`);
      assert.ok(
        (s.delayMaxMs as number) >= (b.delayMaxMs as number) + 1500,
        `${v.protocol}: max delay ${b.delayMaxMs} → ${s.delayMaxMs} ms`,
      );
    });
    const d = audience.registry.takeDelta();
    for (const kind of ['rtmp', 'hls']) {
      assert.ok((d.counters[seriesKey('viewer_stalls', { kind })] ?? 0) >= 1, `viewer_stalls{kind:${kind}}`);
      const delay = d.histograms[seriesKey('viewer_delay', { kind })];
      assert.ok(delay && delay.max / 1000 >= 1500, `viewer_delay{kind:${kind}} max ${delay?.max} µs`);
    }
  } finally {
    nginx.process.kill('SIGCONT');
    await audience.stop();
    await pubs.stop();
    await nginx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a stream pulled from nginx-rtmp by ffmpeg: burnt-in clock changes second to second, the SEI clock is in the bitstream', async (t) => {
  if (!nginxAvailable()) return t.skip('nginx with libnginx-mod-rtmp is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'ivtfarm-viewers-ffmpeg-'));
  const nginx = await startNginxRtmp(dir);
  const pubs = new Publishers();
  try {
    await pubs.start([`rtmp://127.0.0.1:${nginx.port}/live/cam`], await ldMedia());
    const pulled = join(dir, 'pulled.flv');
    await execFileAsync(
      'ffmpeg',
      ['-v', 'error', '-y', '-i', `rtmp://127.0.0.1:${nginx.port}/live/cam`, '-t', '6', '-c', 'copy', pulled],
      { timeout: 60_000 },
    );
    // Decodes cleanly with our SEI inside, and ffmpeg sees the SEI on the key frames.
    await execFileAsync('ffmpeg', ['-v', 'error', '-xerror', '-i', pulled, '-f', 'null', '-']);
    const { stdout } = await execFileAsync('ffprobe', [
      ...[
        '-v',
        'error',
        '-select_streams',
        'v',
        '-show_frames',
        '-show_entries',
        'frame=key_frame:frame_side_data_list',
      ],
      ...['-of', 'json', pulled],
    ]);
    const frames = (
      JSON.parse(stdout) as { frames: { key_frame: number; side_data_list?: { side_data_type: string }[] }[] }
    ).frames;
    const keys = frames.filter((f) => f.key_frame === 1);
    assert.ok(keys.length >= 2, `${keys.length} key frames pulled`);
    for (const k of keys) {
      assert.ok(
        k.side_data_list?.some((s) => /User Data Unregistered SEI/.test(s.side_data_type)),
        'every key frame carries the unregistered-user-data SEI',
      );
    }
    // The seconds digit of the burnt-in clock: frames 1 s (25 frames) apart always differ there,
    // and most consecutive frames (40 ms apart) show the same digit: it changes once a second. (A
    // few more changes are tolerated: nginx-rtmp drops frames to a puller that falls behind on a
    // busy machine, and the decoder conceals what is missing.)
    // Frames 40–90 of the 6 s pull: past the first key frame even if nginx began mid-GOP (frames
    // decoded before it are concealment, not picture).
    const decoded = await secondsDigitPixels(pulled, 91);
    assert.equal(decoded.length, 91, `${decoded.length} frames decoded from 6 s`);
    const digit = decoded.slice(40);
    for (let i = 0; i + 25 < digit.length; i++) {
      const d = meanDiff(digit[i] as Buffer, digit[i + 25] as Buffer);
      assert.ok(d > 25, `frames ${i} and ${i + 25} (1 s apart) differ by only ${d.toFixed(1)} in the clock`);
    }
    const changes = digit.filter((f, i) => i > 0 && meanDiff(digit[i - 1] as Buffer, f) > 8).length;
    assert.ok(changes >= 1 && changes <= 10, `the seconds digit changed ${changes} times in 50 frame steps`);
  } finally {
    await pubs.stop();
    await nginx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
