import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FlvError, loadFlv, parseFlv, TAG_AUDIO, TAG_VIDEO } from '../src/media/flv.js';
import { makeFlv, probe } from '../support/nginx-rtmp.js';

let dir = '';
let path = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ivtfarm-flv-'));
  path = await makeFlv(join(dir, 'clip.flv'), 3);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('parses sequence headers, metadata and media tags of an ffmpeg FLV', async () => {
  const flv = await loadFlv(path);
  assert.ok(flv.hasVideo && flv.hasAudio);
  // AVC sequence header: key frame + codec 7, AVCPacketType 0; AAC: format 10, AACPacketType 0.
  assert.equal(flv.videoConfig?.[0], 0x17);
  assert.equal(flv.videoConfig?.[1], 0);
  assert.equal((flv.audioConfig?.[0] ?? 0) >> 4, 10);
  assert.equal(flv.audioConfig?.[1], 0);
  assert.equal(flv.metadata.width, 320);
  assert.equal(flv.metadata.framerate, 25);
  assert.ok(flv.metadataPayload?.toString('latin1').includes('onMetaData'));

  const video = flv.tags.filter((t) => t.type === TAG_VIDEO);
  const audio = flv.tags.filter((t) => t.type === TAG_AUDIO);
  assert.equal(video.length, 75, '3 s at 25 fps');
  assert.ok(audio.length > 100, 'about 43 AAC frames per second');
  assert.equal(flv.tags[0]?.timestamp, 0, 'timestamps rebased to the first media tag');
  // GOP 1 s: a key frame every 25 frames, and no sequence header left among the tags.
  assert.deepEqual(
    video.flatMap((t, i) => (t.keyframe ? [i] : [])),
    [0, 25, 50],
  );
  assert.ok(flv.tags.every((t) => t.payload[1] !== 0 || (t.type === TAG_VIDEO && !t.keyframe)));
  for (const type of [TAG_VIDEO, TAG_AUDIO]) {
    const ts = flv.tags.filter((t) => t.type === type).map((t) => t.timestamp);
    assert.ok(
      ts.every((v, i) => i === 0 || v >= (ts[i - 1] as number)),
      'monotonic per type',
    );
    assert.ok(flv.loopDuration > (ts[ts.length - 1] as number), 'loop ends after the last tag');
  }
  assert.ok(flv.loopDuration >= 3000 && flv.loopDuration <= 3120, `loop ${flv.loopDuration} ms`);
});

test('tag payloads are views into one file buffer, not copies', async () => {
  const buf = await readFile(path);
  const flv = parseFlv(buf);
  for (const t of flv.tags) assert.equal(t.payload.buffer, buf.buffer);
  assert.equal(flv.videoConfig?.buffer, buf.buffer);
  // Mutating the file buffer shows through: proof that nothing was copied.
  const first = flv.tags[0];
  assert.ok(first);
  const offset = first.payload.byteOffset - buf.byteOffset;
  buf[offset] = 0xee;
  assert.equal(first.payload[0], 0xee);
});

test('bitrate matches what ffprobe measures for the file (within 10 %)', async () => {
  const flv = await loadFlv(path);
  const p = await probe(path);
  const ratio = flv.bitrate / p.bitRate;
  assert.ok(ratio > 0.9 && ratio < 1.1, `flv ${flv.bitrate} vs ffprobe ${p.bitRate}`);
  assert.equal(
    flv.mediaBytes,
    flv.tags.reduce((n, t) => n + t.payload.length, 0),
  );
});

test('refuses what is not an FLV, and an FLV without media', () => {
  assert.throws(() => parseFlv(Buffer.from('not a flv file at all')), FlvError);
  const headerOnly = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
  assert.throws(() => parseFlv(headerOnly), /no media tags/);
});

test('a truncated last tag (file cut while recording) is ignored', async () => {
  const buf = await readFile(path);
  const whole = parseFlv(buf);
  const last = whole.tags[whole.tags.length - 1];
  assert.ok(last);
  // Cut in the middle of the last media tag's payload.
  const cut = parseFlv(buf.subarray(0, last.payload.byteOffset - buf.byteOffset + 1));
  assert.equal(cut.tags.length, whole.tags.length - 1);
});
