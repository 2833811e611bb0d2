// The wasm ladder builder. One real build of four tiny renditions (4 s each, ~10-20 s on a busy
// 2-core machine: wasm x264 has no SIMD); the full-size ladder is timed by hand, see docs/media.md.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import {
  BuildError,
  type BuildProgress,
  buildLadder,
  DEFAULT_LADDER,
  ensureLadder,
  ladderCacheKey,
  planLadder,
} from '../src/media/build.js';
import { loadCatalogue, QUALITIES } from '../src/media/catalogue.js';
import { TsLoop } from '../src/media/ts/loop.js';
import { runCli } from './cli-support.js';
import { handles, handlesSettle } from './handles-support.js';

const tmp = mkdtempSync(join(tmpdir(), 'ivt-build-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const TINY = {
  ld: { width: 96, height: 54, bitrate: 64_000 },
  sd: { width: 128, height: 72, bitrate: 96_000 },
  hd: { width: 160, height: 90, bitrate: 128_000 },
  fhd: { width: 192, height: 108, bitrate: 160_000 },
};

describe('ladder plan', () => {
  test('defaults reproduce the committed ladder layout', () => {
    const jobs = planLadder({ out: tmp });
    assert.deepEqual(
      jobs.map((j) => [
        j.quality,
        j.width,
        j.height,
        j.videoBitrate + j.audioBitrate,
        j.gopFrames,
        j.durationSeconds,
      ]),
      QUALITIES.map((q) => [
        q,
        DEFAULT_LADDER[q].width,
        DEFAULT_LADDER[q].height,
        DEFAULT_LADDER[q].bitrate,
        25,
        8,
      ]),
    );
  });

  test('a bitrate override keeps the audio share small and the total exact', () => {
    const sd = planLadder({ out: tmp, renditions: { sd: { bitrate: 200_000 } } })[1]!;
    assert.equal(sd.nominalBitrate, 200_000);
    assert.equal(sd.audioBitrate + sd.videoBitrate, 200_000);
    assert.ok(sd.audioBitrate <= 25_000);
    assert.equal(sd.width, 640);
  });

  test('values that would break the loop or the encoder are refused before encoding', () => {
    assert.throws(
      () => planLadder({ out: tmp, durationSeconds: 10 }),
      (e: unknown) => e instanceof BuildError && /seamless/.test(e.message),
    );
    assert.doesNotThrow(() => planLadder({ out: tmp, durationSeconds: 4, audioRate: 32_000 }));
    assert.throws(() => planLadder({ out: tmp, renditions: { hd: { width: 1279 } } }), /even integers/);
    assert.throws(
      () => planLadder({ out: tmp, renditions: { ld: { bitrate: 1000 } } }),
      /between 32k and 50M/,
    );
    assert.throws(() => planLadder({ out: tmp, gopSeconds: 0.5, fps: 25 }), /whole number of frames/);
    assert.throws(() => planLadder({ out: tmp, preset: 'warp' }), /preset/);
  });
});

describe('wasm build', () => {
  test('builds a playable ladder that the catalogue and the segmenter accept', async () => {
    const out = join(tmp, 'tiny');
    const seen: BuildProgress[] = [];
    const manifest = await buildLadder({
      out,
      renditions: TINY,
      durationSeconds: 4,
      audioRate: 32_000,
      preset: 'ultrafast',
      concurrency: 2,
      onProgress: (p) => seen.push(p),
    });
    // progress: every quality reaches done, the overall figure never goes back and ends at 1
    for (const q of QUALITIES) assert.ok(seen.some((p) => p.quality === q && p.phase === 'done'));
    assert.ok(seen.some((p) => p.phase === 'video' && p.fraction > 0 && p.fraction < 1));
    assert.equal(seen.at(-1)!.overall, 1);
    // The renditions ran as tasks of a two-thread pool: each on one pool thread (never the main
    // one), four renditions on at most two threads, so a thread encoded one after another, each
    // in a fresh wasm instance (the checks below pass for every rendition).
    const threadOf = new Map<string, Set<number>>();
    for (const p of seen) {
      if (p.threadId === undefined) continue;
      if (!threadOf.has(p.quality)) threadOf.set(p.quality, new Set());
      threadOf.get(p.quality)!.add(p.threadId);
    }
    assert.deepEqual([...threadOf.keys()].sort(), [...QUALITIES].sort());
    for (const [q, ids] of threadOf) assert.equal(ids.size, 1, `${q} ran on threads ${[...ids]}`);
    const threads = new Set([...threadOf.values()].flatMap((ids) => [...ids]));
    assert.ok(!threads.has(threadId), 'an encode ran on the main thread');
    assert.ok(threads.size <= 2, `4 renditions on ${threads.size} threads`);

    const cat = loadCatalogue({ dir: out });
    for (const q of QUALITIES) {
      const r = cat.rendition(q);
      assert.equal(r.nominalBitrate, TINY[q].bitrate);
      assert.equal(r.width, TINY[q].width);
      assert.equal(r.keyframes, 4);
      assert.ok(
        r.bitrate > r.nominalBitrate * 0.6 && r.bitrate < r.nominalBitrate * 1.5,
        `${q} ${r.bitrate}`,
      );
      assert.equal(manifest.renditions[q].tsBytes, r.tsBytes);
    }
    assert.ok(cat.alarmJpegPath && existsSync(cat.alarmJpegPath));

    // system ffprobe as the independent judge: H.264 Main + AAC, key frames exactly every second
    const probe = JSON.parse(
      execFileSync('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_name,profile,width,height,sample_rate:packet=stream_index,pts_time,flags',
        '-of',
        'json',
        cat.rendition('hd').flvPath,
      ]).toString(),
    ) as {
      streams: { codec_name: string; profile?: string; width?: number; sample_rate?: string }[];
      packets: { stream_index: number; pts_time: string; flags: string }[];
    };
    const v = probe.streams.findIndex((s) => s.codec_name === 'h264');
    assert.equal(probe.streams[v]!.profile, manifest.renditions.hd.video?.profile);
    assert.equal(probe.streams[v]!.width, 160);
    assert.equal(probe.streams.find((s) => s.codec_name === 'aac')!.sample_rate, '32000');
    const keys = probe.packets
      .filter((p) => p.stream_index === v && p.flags.startsWith('K'))
      .map((p) => Number(p.pts_time));
    assert.deepEqual(keys, [0, 1, 2, 3]);

    // the recorder's view: the TS loops seamlessly (4 s pass) and cuts into whole seconds
    const loop = TsLoop.fromFile(cat.rendition('ld').tsPath);
    assert.equal(loop.periodSeconds, 4);
    const seg = loop.segmenter();
    assert.deepEqual([seg.next(3).durationSec, seg.next(3).durationSec], [3, 3]);

    // a scenario asking for these rates finds the ladder in the cache instead of rebuilding it
    const cacheDir = join(tmp, 'cache');
    const bitrates = { ld: 64_000, sd: 96_000, hd: 128_000, fhd: 160_000 };
    mkdirSync(cacheDir);
    cpSync(out, join(cacheDir, ladderCacheKey(bitrates)), { recursive: true });
    const cached = await ensureLadder({ bitrates, cacheDir });
    assert.equal(cached.dir, join(cacheDir, ladderCacheKey(bitrates)));
    assert.equal(cached.rendition('fhd').nominalBitrate, 160_000);
  });

  test('rates the committed ladder already sends need no build', async () => {
    const cat = await ensureLadder({
      bitrates: { sd: 512_000, hd: 2_000_000, fhd: 4_000_000 },
      cacheDir: join(tmp, 'unused'),
    });
    assert.equal(cat.dir, loadCatalogue().dir);
    assert.ok(!existsSync(join(tmp, 'unused')));
  });

  test('an abort stops the encoders and writes no manifest', async () => {
    const out = join(tmp, 'aborted');
    const ac = new AbortController();
    const handlesBefore = handles();
    const build = buildLadder({
      out,
      renditions: TINY,
      durationSeconds: 4,
      audioRate: 32_000,
      onProgress: (p) => {
        if (p.phase === 'video') ac.abort();
      },
      signal: ac.signal,
    });
    await assert.rejects(build, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    assert.ok(!existsSync(join(out, 'manifest.json')));
    // the pool is destroyed before the build settles: no encoder thread or progress port is left
    assert.deepEqual(await handlesSettle(handlesBefore), []);
  });

  test('Ctrl-C during `ivtfarm media build` stops the encoders: exit 105, no manifest', async () => {
    const out = join(tmp, 'interrupted');
    let interrupted = false;
    const r = await runCli(['media', 'build', '--out', out], {
      onStderr: (text, kill) => {
        if (interrupted || !/ video on thread \d+/.test(text)) return;
        interrupted = true; // one Ctrl-C
        kill();
      },
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 105, r.stderr);
    assert.match(r.stderr, /\b(?:ld|sd|hd|fhd): video on thread \d+/, 'an encode was running');
    assert.ok(r.stderr.includes(`interrupted (SIGINT): no manifest written to ${out}`), r.stderr);
    assert.doesNotMatch(r.stderr, /built \d+ rendition/);
    assert.ok(!existsSync(join(out, 'manifest.json')));
  });
});
