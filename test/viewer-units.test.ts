// The pieces of the viewers that need no server: the stream clock written by the publisher and
// read back from FLV and MPEG-TS framing, the playout buffer model, FLV/TS/playlist parsing, and
// the ingest's bounded playback cache.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { loadCatalogue } from '../src/media/catalogue.js';
import { loadFlv } from '../src/media/flv.js';
import { PlaybackHub, type PlaybackSubscriber } from '../src/media/rtmp/playback.js';
import {
  CLOCK_SEI_BYTES,
  clockSeiAnnexB,
  clockSplits,
  clockTemplates,
  type FrameInfo,
  inspectAnnexB,
  inspectAvcTag,
  writeClockDigits,
  writeClockSei,
} from '../src/media/rtmp/stream-clock.js';
import { FlvStreamReader } from '../src/viewer/flv-stream.js';
import { parsePlaylist } from '../src/viewer/hls-playlist.js';
import { PlayoutMeter } from '../src/viewer/playout.js';
import { TsVideoReader } from '../src/viewer/ts-video.js';

const info = (): FrameInfo => ({ key: false, clock: null });

test('stream clock: spliced before the first slice of every key frame of the ladder, read back exactly', async () => {
  const media = await loadFlv(loadCatalogue().rendition('ld').flvPath);
  const splits = clockSplits(media);
  const keys = media.tags.filter((t) => t.keyframe).length;
  assert.equal(keys, 8);
  const stamped = media.tags.map((t, i) => ({ t, at: splits[i] as number })).filter((x) => x.at >= 0);
  assert.equal(stamped.length, keys, 'every key frame gets the clock, nothing else');
  const when = 1_764_600_000_123;
  for (const { t, at } of stamped) {
    const sei = Buffer.alloc(CLOCK_SEI_BYTES);
    writeClockSei(sei, 0, when);
    const joined = Buffer.concat([t.payload.subarray(0, at), sei, t.payload.subarray(at)]);
    assert.deepEqual(inspectAvcTag(joined, info()), { key: true, clock: when });
    assert.deepEqual(inspectAvcTag(t.payload, info()), { key: true, clock: null }, 'unstamped: no clock');
  }
  // What the publisher sends: the shared template, re-stamped per send.
  const templates = clockTemplates(media);
  for (const [i, template] of templates.payloads.entries()) {
    if (!template) continue;
    writeClockDigits(template, templates.digitsAt[i] as number, when + i);
    assert.deepEqual(inspectAvcTag(template, info()), { key: true, clock: when + i });
  }
  assert.equal(templates.payloads.filter((p) => p !== null).length, keys);
  const inter = media.tags.find((t) => t.type === 9 && !t.keyframe);
  assert.deepEqual(inspectAvcTag(inter?.payload as Buffer, info()), { key: false, clock: null });
});

test('stream clock in Annex B: found before an IDR slice, not after it, not in foreign SEI', () => {
  const idr = Buffer.from([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x33]);
  const aud = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
  const foreignSei = Buffer.from([0, 0, 1, 0x06, 0x05, 0x02, 0xaa, 0xbb, 0x80]);
  const clock = clockSeiAnnexB(42_000);
  assert.deepEqual(inspectAnnexB(Buffer.concat([aud, foreignSei, clock, idr]), info()), {
    key: true,
    clock: 42_000,
  });
  assert.deepEqual(inspectAnnexB(Buffer.concat([aud, idr, clock]), info()), { key: true, clock: null });
  const nonIdr = Buffer.from([0, 0, 1, 0x41, 0x9a, 0x00]);
  assert.deepEqual(inspectAnnexB(Buffer.concat([aud, nonIdr]), info()), { key: false, clock: null });
});

function meter(bufferMs = 1000) {
  const seen = { ttff: [] as number[], stalls: [] as number[], delays: [] as number[] };
  const m = new PlayoutMeter(bufferMs, {
    onFirstFrame: (ms) => seen.ttff.push(ms),
    onStall: (ms) => seen.stalls.push(ms),
    onDelay: (ms) => seen.delays.push(ms),
  });
  return { m, seen };
}

test('playout model: on-time frames never stall; a 3 s hole stalls once for hole − buffer + re-buffer', () => {
  const { m, seen } = meter(1000);
  m.begin(10_000);
  // Inter frames before the first key frame are not shown.
  m.frame(960, false, null, 10_100);
  assert.deepEqual(seen.ttff, []);
  // 25 fps from media 1000 ms, each frame arriving exactly on its media time (wall = media + 9300).
  for (let i = 0; i < 100; i++)
    m.frame(1000 + i * 40, i % 25 === 0, i % 25 === 0 ? 10_300 + i * 40 : null, 10_300 + i * 40);
  assert.deepEqual(seen.ttff, [300]);
  assert.deepEqual(seen.stalls, []);
  assert.deepEqual(seen.delays, [0, 0, 0, 0]);
  // Then nothing for 3 s: the next frame (media 5000, due at 10300 + 4000 + 1000 buffer) arrives at 17300.
  m.frame(5000, true, 14_300, 17_300);
  assert.deepEqual(seen.stalls, [17_300 + 1000 - 15_300]);
  assert.equal(seen.delays.at(-1), 3000);
  // Re-anchored: frames on time again do not stall.
  for (let i = 1; i < 50; i++) m.frame(5000 + i * 40, false, null, 17_300 + i * 40);
  assert.equal(seen.stalls.length, 1);
  assert.equal(m.stallMs, 3000);
});

test('playout model: a stall still going on when the player stops is counted up to the stop', () => {
  const { m, seen } = meter(500);
  m.begin(0);
  m.frame(0, true, null, 100);
  m.frame(40, false, null, 140);
  m.end(5000); // frame 40 was due at 100 + 500 + 40 = 640
  assert.deepEqual(seen.stalls, [4360]);
});

test('FLV stream reader: any split of a file gives the same tags as the file parser', async () => {
  const path = loadCatalogue().rendition('ld').flvPath;
  const bytes = await readFile(path);
  const media = await loadFlv(path);
  for (const step of [1, 7, 188, 4096, bytes.length]) {
    const seen: number[] = [];
    const r = new FlvStreamReader((type, ts, body) => {
      // frames only: not the sequence headers or end-of-sequence, which the file parser keeps apart
      if ((type === 9 || type === 8) && body[1] === 1) seen.push(ts);
    });
    for (let i = 0; i < bytes.length; i += step) r.push(bytes.subarray(i, i + step));
    assert.deepEqual(
      seen,
      media.tags.map((t) => t.timestamp),
      `split ${step}`,
    );
  }
  assert.throws(() => new FlvStreamReader(() => {}).push(Buffer.from('GET / HTTP/1.1\r\n')), /not an FLV/);
});

test('TS video reader: the ladder TS in odd splits gives 200 frames, 8 key frames, PTS 40 ms apart', async () => {
  const bytes = await readFile(loadCatalogue().rendition('ld').tsPath);
  for (const step of [100, 188 * 3 + 5, bytes.length]) {
    const pts: number[] = [];
    let keys = 0;
    const r = new TsVideoReader((ms, key) => {
      pts.push(ms);
      if (key) keys++;
    });
    for (let i = 0; i < bytes.length; i += step) r.push(bytes.subarray(i, i + step));
    r.flush();
    assert.equal(pts.length, 200, `split ${step}`);
    assert.equal(keys, 8);
    assert.ok(pts.every((v, i) => i === 0 || Math.abs(v - (pts[i - 1] as number) - 40) < 0.01));
  }
  assert.throws(() => new TsVideoReader(() => {}).push(Buffer.alloc(376, 1)), /sync/);
});

test('HLS playlist: media playlist fields, master playlist variant, errors', () => {
  const media = parsePlaylist(
    '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:17\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.000,\ncam-17.ts\n#EXTINF:1.04,\ncam-18.ts\n',
  );
  assert.deepEqual(media, {
    kind: 'media',
    targetDurationMs: 2000,
    mediaSequence: 17,
    segments: [
      { uri: 'cam-17.ts', durationMs: 1000 },
      { uri: 'cam-18.ts', durationMs: 1040 },
    ],
    ended: false,
  });
  assert.deepEqual(parsePlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow/index.m3u8\n'), {
    kind: 'master',
    variantUri: 'low/index.m3u8',
  });
  assert.throws(() => parsePlaylist('<html>'), /#EXTM3U/);
  assert.throws(() => parsePlaylist('#EXTM3U\n#EXTINF:1,\na.ts\n'), /TARGETDURATION/);
});

test('ingest playback cache: a late player starts at the cached key frame; a GOP over the cap is not kept', () => {
  const hub = new PlaybackHub(10_000);
  const got: { type: number; ts: number; key: boolean }[] = [];
  const sub: PlaybackSubscriber = {
    send: (type, ts, p) =>
      got.push({ type, ts, key: type === 9 && (p[0] as number) >> 4 === 1 && p[1] === 1 }),
    congested: () => false,
    unpublished: () => {},
  };
  const key = Buffer.from([0x17, 1, 0, 0, 0, 1, 2, 3]);
  const inter = Buffer.from([0x27, 1, 0, 0, 0, 4, 5, 6]);
  hub.publish('cam');
  hub.media('cam', 9, 0, Buffer.from([0x17, 0, 0, 0, 0, 1])); // AVC sequence header
  hub.subscribe('cam', sub)(); // a first viewer marks the stream watched, then leaves
  hub.media('cam', 9, 40, inter);
  hub.media('cam', 9, 1000, key);
  hub.media('cam', 9, 1040, inter);
  hub.subscribe('cam', sub);
  assert.deepEqual(
    got.map((g) => [g.ts, g.key]),
    [
      [0, false], // sequence header to the first viewer
      [1000, false], // sequence header to the second (stamped at the GOP start)
      [1000, true],
      [1040, false],
    ],
  );
  got.length = 0;
  hub.media('cam', 9, 2000, key);
  hub.media('cam', 9, 2040, Buffer.alloc(20_000, 0x27)); // over the 10 kB cap: the GOP is dropped
  const late: number[] = [];
  hub.subscribe('cam', { ...sub, send: (_t, ts) => late.push(ts) });
  assert.deepEqual(late, [0], 'only the sequence header: the late viewer waits for the next key frame');
  hub.media('cam', 9, 3000, key);
  assert.deepEqual(late, [0, 3000]);
});
