import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { type FlvFile, loadFlv } from '../src/media/flv.js';
import { RtmpPublishError } from '../src/media/rtmp/errors.js';
import { ServerHandshake } from '../src/media/rtmp/handshake.js';
import { type IngestStreamStats, RtmpIngestServer } from '../src/media/rtmp/ingest-server.js';
import { PublishScheduler } from '../src/media/rtmp/pacer.js';
import { CATCH_UP_WINDOWS, RtmpPublisher } from '../src/media/rtmp/publisher.js';
import { eventually } from '../support/eventually.js';
import { freePort, makeFlv } from '../support/nginx-rtmp.js';

let dir = '';
let clipPath = '';
let clip: FlvFile;
const scheduler = new PublishScheduler({ windowMs: 100 });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ivtfarm-rtmp-ingest-'));
  clipPath = await makeFlv(join(dir, 'clip.flv'), 2);
  clip = await loadFlv(clipPath);
});
after(async () => {
  scheduler.close();
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts an ingest server that is closed when the test ends, even if an assertion fails. */
async function ingest(t: TestContext, options: ConstructorParameters<typeof RtmpIngestServer>[0] = {}) {
  let resolveEnd: (s: IngestStreamStats) => void = () => {};
  const ended = new Promise<IngestStreamStats>((r) => {
    resolveEnd = r;
  });
  const server = new RtmpIngestServer({ ...options, onEnd: (s) => resolveEnd(s) });
  t.after(() => server.close());
  const { port } = await server.listen();
  return { server, port, ended };
}

test('publisher → ingest: what arrives is what was sent, valid across a loop boundary', async (t) => {
  const { server, port, ended } = await ingest(t);
  const starts: number[] = [];
  const lags: number[] = [];
  const pub = new RtmpPublisher({
    url: `rtmp://127.0.0.1:${port}/live/cam-1?token=abc`,
    media: clip,
    scheduler,
    observer: { onStart: (_p, ms) => starts.push(ms), onLag: (ms) => lags.push(ms) },
  });
  await pub.start();
  assert.equal(starts.length, 1);
  const live = server.stream('cam-1');
  assert.ok(live, 'stream registered under its name without the query');
  assert.equal(live.app, 'live');
  assert.equal(live.endedAt, null);
  await eventually('past the loop boundary', () => pub.stats().mediaTimeMs > clip.loopDuration + 500, 30_000);
  await pub.stop();
  const end = await ended;
  const sent = pub.stats();

  assert.ok(sent.loops >= 1, 'crossed a loop boundary');
  assert.equal(await pub.closed, null, 'clean stop');
  assert.equal(end.bytes, sent.bytesSent, 'every byte sent was received');
  assert.equal(end.mediaBytes, sent.mediaBytesSent);
  assert.equal(end.videoTags + end.audioTags, sent.tagsSent + 2, 'tags + the two sequence headers');
  assert.equal(end.dataTags, 1, '@setDataFrame onMetaData once, not per loop');
  assert.equal(end.violations, 0, end.violationSamples.join('; '));
  assert.ok(end.lastVideoTimestamp > clip.loopDuration, 'timestamps kept growing after the loop');
  assert.ok(lags.length > 5, 'a lag sample per tick');
  // Paced by timestamps, asserted without timing the machine: every media second carries the
  // file's bytes, and nothing left ahead of the wall clock by more than one send window.
  const perMediaSecond = (sent.mediaBytesSent * 8000) / sent.mediaTimeMs;
  assert.ok(Math.abs(perMediaSecond / clip.bitrate - 1) < 0.2, `${perMediaSecond} vs ${clip.bitrate} bit/s`);
  assert.ok(
    sent.mediaTimeMs <= sent.elapsedMs + scheduler.windowMs + 1,
    `media ${sent.mediaTimeMs} ms sent in ${sent.elapsedMs} ms`,
  );
});

test('a duplicate stream name is refused with BadName as a typed error', async (t) => {
  const { port } = await ingest(t);
  const url = `rtmp://127.0.0.1:${port}/live/dup`;
  const first = new RtmpPublisher({ url, media: clip, scheduler });
  await first.start();
  const failures: string[] = [];
  const second = new RtmpPublisher({
    url,
    media: clip,
    scheduler,
    observer: { onFailure: (_p, e) => failures.push(e.reason) },
  });
  await assert.rejects(second.start(), (e: unknown) => {
    assert.ok(e instanceof RtmpPublishError);
    assert.equal(e.reason, 'bad_name');
    assert.equal(e.phase, 'publish');
    assert.equal(e.statusCode, 'NetStream.Publish.BadName');
    return true;
  });
  assert.deepEqual(failures, ['bad_name'], 'the observer counts the failure by reason');
  assert.equal(first.state, 'streaming', 'the first publisher is unaffected');
  await first.stop();
});

test('an authorize hook refusing a name gives bad_name too', async (t) => {
  const { port } = await ingest(t, { authorize: (r) => r.name.startsWith('ok-') });
  const pub = new RtmpPublisher({ url: `rtmp://127.0.0.1:${port}/live/nope`, media: clip, scheduler });
  await assert.rejects(pub.start(), { name: 'RtmpPublishError', reason: 'bad_name' });
});

test('a server that drops the connection mid-stream gives a typed "closed" failure', async (t) => {
  const { server, port } = await ingest(t);
  const failures: RtmpPublishError[] = [];
  const pub = new RtmpPublisher({
    url: `rtmp://127.0.0.1:${port}/live/kicked`,
    media: clip,
    scheduler,
    observer: { onFailure: (_p, e) => failures.push(e) },
  });
  await pub.start();
  await sleep(300);
  assert.ok(server.kick('kicked'));
  const err = await pub.closed;
  assert.ok(err instanceof RtmpPublishError);
  assert.equal(err.reason, 'closed');
  assert.equal(err.phase, 'streaming');
  assert.equal(failures.length, 1);
  assert.equal(pub.state, 'failed');
  assert.ok(pub.stats().mediaBytesSent > 0);
});

test('connection refused, handshake timeout and publish timeout are typed', async (t) => {
  const port = await freePort();
  const refused = new RtmpPublisher({ url: `rtmp://127.0.0.1:${port}/live/x`, media: clip, scheduler });
  await assert.rejects(refused.start(), { reason: 'connect_refused', phase: 'connect' });

  // A server that accepts TCP and never speaks.
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const addr = silent.address();
  const silentPort = typeof addr === 'object' && addr ? addr.port : 0;
  const hs = new RtmpPublisher({
    url: `rtmp://127.0.0.1:${silentPort}/live/x`,
    media: clip,
    scheduler,
    handshakeTimeoutMs: 300,
  });
  await assert.rejects(hs.start(), { reason: 'handshake_timeout', phase: 'handshake' });

  // A server that completes the handshake, then never answers `connect`.
  const mute = createServer((s) => {
    sockets.push(s);
    const hs = new ServerHandshake();
    s.on('data', (d: Buffer) => {
      const step = hs.push(d);
      if (step.reply) s.write(step.reply);
    });
  });
  t.after(() => {
    for (const s of sockets) s.destroy();
    mute.close();
  });
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  const muteAddr = mute.address();
  const mutePort = typeof muteAddr === 'object' && muteAddr ? muteAddr.port : 0;
  const pt = new RtmpPublisher({
    url: `rtmp://127.0.0.1:${mutePort}/live/x`,
    media: clip,
    scheduler,
    publishTimeoutMs: 300,
  });
  await assert.rejects(pt.start(), { reason: 'publish_timeout', phase: 'publish' });

  const bad = new RtmpPublisher({ url: 'rtmp://127.0.0.1/nostream', media: clip, scheduler });
  await assert.rejects(bad.start(), { reason: 'bad_url' });
});

test('errors never carry the stream query (tokens)', async () => {
  const port = await freePort();
  const pub = new RtmpPublisher({
    url: `rtmp://127.0.0.1:${port}/live/x?passwd=hunter2`,
    media: clip,
    scheduler,
  });
  const err = await pub.start().catch((e: Error) => e);
  assert.ok(err instanceof RtmpPublishError);
  assert.doesNotMatch(err.message, /hunter2/);
  assert.match(err.message, /live\/x/);
});

test('ffmpeg can publish to the ingest (interoperability with a third-party client)', async (t) => {
  const { port, ended } = await ingest(t);
  const code = await new Promise<number>((resolve) => {
    const child = execFile(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-re',
        '-i',
        clipPath,
        '-c',
        'copy',
        '-f',
        'flv',
        `rtmp://127.0.0.1:${port}/live/ff`,
      ],
      { timeout: 15000 },
    );
    child.on('exit', (c) => resolve(c ?? -1));
  });
  assert.equal(code, 0, 'ffmpeg published without error');
  const end = await ended;
  assert.equal(end.name, 'ff');
  assert.ok(end.videoTags >= 50, `${end.videoTags} video tags`);
  assert.equal(end.violations, 0, end.violationSamples.join('; '));
});

test('discard mode counts bytes without parsing', async (t) => {
  const { port, ended } = await ingest(t, { discard: true });
  const pub = new RtmpPublisher({ url: `rtmp://127.0.0.1:${port}/live/sink`, media: clip, scheduler });
  await pub.start();
  await sleep(500);
  await pub.stop();
  const end = await ended;
  assert.equal(end.bytes, pub.stats().bytesSent);
  assert.equal(end.videoTags, 0, 'not parsed');
  assert.ok(end.bitrate > 0);
});

/** An FLV in memory from (timestamp, video body) pairs, in that order. */
function flvOf(tags: [number, Buffer][]): Buffer {
  const out: Buffer[] = [Buffer.from([0x46, 0x4c, 0x56, 1, 1, 0, 0, 0, 9, 0, 0, 0, 0])];
  for (const [ts, body] of tags) {
    const h = Buffer.alloc(11);
    h[0] = 9;
    h.writeUIntBE(body.length, 1, 3);
    h.writeUIntBE(ts & 0xffffff, 4, 3);
    const prev = Buffer.alloc(4);
    prev.writeUInt32BE(body.length + 11, 0);
    out.push(h, body, prev);
  }
  return Buffer.concat(out);
}

const AVC_CONFIG = Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff]);

function keyframe(size: number): Buffer {
  const body = Buffer.alloc(size, 0x55);
  body[0] = 0x17;
  body[1] = 1;
  return body;
}

/** AVC sequence header, then `frames` key frames of `size` bytes at 25 fps. */
function syntheticFlv(frames: number, size: number): Buffer {
  const tags: [number, Buffer][] = [[0, AVC_CONFIG]];
  for (let i = 0; i < frames; i++) tags.push([i * 40, keyframe(size)]);
  return flvOf(tags);
}

test('the ingest reports a stream without AVC sequence header and timestamps going back', async (t) => {
  const { parseFlv } = await import('../src/media/flv.js');
  // No sequence header; file order 0, 80, 40, 120: the 40 goes back.
  const broken = parseFlv(flvOf([0, 80, 40, 120].map((ts) => [ts, keyframe(100)])));
  assert.equal(broken.videoConfig, null);
  const { port, ended } = await ingest(t);
  const pub = new RtmpPublisher({ url: `rtmp://127.0.0.1:${port}/live/broken`, media: broken, scheduler });
  await pub.start();
  await sleep(300);
  await pub.stop();
  const end = await ended;
  // 2 in the first pass, then one more per further loop of the 4-tag file.
  assert.ok(end.violations >= 2, end.violationSamples.join('; '));
  assert.match(end.violationSamples[0] ?? '', /not an AVC sequence header/);
  assert.match(end.violationSamples[1] ?? '', /video timestamp went back from 80 to 40/);
});

test('backpressure from a stalled server shows as growing lag, and is caught up after', async (t) => {
  const { parseFlv } = await import('../src/media/flv.js');
  // ~50 Mbit/s: a stall fills the loopback socket buffers within a second or two, yet a busy
  // 2-core machine can still push it faster than real time once the server reads again.
  const heavy = parseFlv(syntheticFlv(25, 256 * 1024));
  const { server, port, ended } = await ingest(t);
  let lastLag = 0;
  // onLag comes once per serve, before it writes: the bytes since the last call are one batch.
  let sentBefore = 0;
  let largestBatch = 0;
  const pub: RtmpPublisher = new RtmpPublisher({
    url: `rtmp://127.0.0.1:${port}/live/stalled`,
    media: heavy,
    scheduler,
    observer: {
      onLag: (ms) => {
        lastLag = ms;
        const sent = pub.stats().bytesSent;
        largestBatch = Math.max(largestBatch, sent - sentBefore);
        sentBefore = sent;
      },
    },
  });
  await pub.start();
  assert.ok(server.stall('stalled', true));
  // Deadlines are generous (a loaded machine is slow); only the direction of the lag is asserted.
  await eventually('the lag to grow past 2 s while the server is stalled', () => lastLag > 2000, 30_000);
  assert.equal(pub.state, 'streaming', 'a slow server is not a failure');
  const stalledLag = lastLag;
  assert.ok(server.stall('stalled', false));
  await eventually(
    `the lag (${stalledLag} ms when resumed) to fall under 500 ms`,
    () => lastLag < 500,
    30_000,
  );
  t.diagnostic(`lag stalled ${stalledLag.toFixed(0)} ms, after resuming ${lastLag.toFixed(0)} ms`);
  // Caught up over several ticks: no batch carried more than CATCH_UP_WINDOWS windows of media
  // (the 1 s file at 25 fps: 2.5 frames a 100 ms window), not the whole 2 s it owed at once.
  const framesPerBatch = (CATCH_UP_WINDOWS * scheduler.windowMs) / 40 + 1;
  assert.ok(
    largestBatch <= framesPerBatch * (256 * 1024 + 100),
    `largest batch ${largestBatch} bytes, more than ${framesPerBatch} frames`,
  );
  await pub.stop();
  const end = await ended;
  assert.equal(end.bytes, pub.stats().bytesSent);
  assert.ok(pub.stats().maxLagMs >= stalledLag);
});

test('a batch a stalled socket still holds is never overwritten by the next stream (one send buffer per thread)', async (t) => {
  const { parseFlv } = await import('../src/media/flv.js');
  // Both publishers encode into the thread's one send buffer (copy mode). Once the stalled
  // stream's socket keeps part of a batch, the flowing stream must get another buffer: had it
  // reused that one, the stalled stream's remaining bytes would be the other stream's chunks.
  const heavy = parseFlv(syntheticFlv(25, 256 * 1024));
  // Batches as large as the stalled one's, laid out differently: they cover what it still holds.
  const other = parseFlv(syntheticFlv(25, 200 * 1024));
  const ends = new Map<string, IngestStreamStats>();
  const server = new RtmpIngestServer({ onEnd: (s) => ends.set(s.name, s) });
  t.after(() => server.close());
  const { port } = await server.listen();
  let stalledLag = 0;
  const publish = (name: string, onLag?: (ms: number) => void) =>
    new RtmpPublisher({
      url: `rtmp://127.0.0.1:${port}/live/${name}`,
      media: name === 'stalled' ? heavy : other,
      scheduler,
      ...(onLag ? { observer: { onLag } } : {}),
    });
  const stalled = publish('stalled', (ms) => {
    stalledLag = ms;
  });
  const flowing = publish('flowing');
  await Promise.all([stalled.start(), flowing.start()]);
  assert.ok(server.stall('stalled', true));
  await eventually('the stalled stream to fall 2 s behind', () => stalledLag > 2000, 30_000);
  const flowingBytes = flowing.stats().bytesSent;
  await eventually(
    'the flowing stream to send more batches',
    () => flowing.stats().bytesSent > flowingBytes + 2_000_000,
    30_000,
  );
  assert.ok(server.stall('stalled', false));
  await eventually('the stalled stream to catch up', () => stalledLag < 500, 30_000);
  await Promise.all([stalled.stop(), flowing.stop()]);
  await eventually('both streams to end at the server', () => ends.size === 2, 10_000);
  for (const pub of [stalled, flowing]) {
    const name = pub === stalled ? 'stalled' : 'flowing';
    const end = ends.get(name)!;
    assert.equal(end.violations, 0, `${name}: ${end.violationSamples.join('; ')}`);
    assert.equal(end.bytes, pub.stats().bytesSent, `${name}: every byte sent was received`);
    assert.equal(end.mediaBytes, pub.stats().mediaBytesSent, `${name}: media bytes`);
    assert.equal(end.videoTags, pub.stats().tagsSent + 1, `${name}: tags + the sequence header`);
  }
});
