// Playback from the reference ingest: publisher → RtmpIngestServer → RTMP play and HTTP-FLV
// players. A player that was waiting before the publish starts with it; later players start at
// once from the cached GOP; the picture carries the publisher's clock; HTTP-FLV of a stream that
// is not live is a 404; when the publisher stops, HTTP-FLV players see the end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpFlvServer } from '../src/media/rtmp/http-flv-server.js';
import { RtmpIngestServer } from '../src/media/rtmp/ingest-server.js';
import { seriesKey } from '../src/metrics/labels.js';
import { ViewerError } from '../src/viewer/types.js';
import { eventually } from '../support/eventually.js';
import { Audience, ldMedia, Publishers } from './viewer-support.js';

test('publisher → reference ingest → RTMP play and HTTP-FLV players: start, clock, bitrate, end', async () => {
  const ingest = new RtmpIngestServer();
  const { port } = await ingest.listen();
  const flv = new HttpFlvServer(ingest.playback as NonNullable<typeof ingest.playback>);
  const { port: httpPort } = await flv.listen();
  const pubs = new Publishers();
  const audience = new Audience();
  try {
    const media = await ldMedia();
    const rtmpUrl = `rtmp://127.0.0.1:${port}/live/cam`;
    const flvUrl = `http://127.0.0.1:${httpPort}/live/cam.flv`;

    // Not live yet: HTTP-FLV answers 404, an RTMP player waits for the publisher.
    const early = audience.add('http-flv', { url: flvUrl });
    await assert.rejects(
      early.start(),
      (e: unknown) => e instanceof ViewerError && e.reason === 'http_status',
    );
    const waiting = audience.add('rtmp', { url: rtmpUrl });
    const waitingStarted = waiting.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(waiting.stats().ttffMs, null);

    await pubs.start([rtmpUrl], media);
    await waitingStarted;
    await eventually('waiting player got two key frames', () => waiting.stats().keyFrames >= 2, 20_000);

    // Late players: the cached GOP gives them a key frame right away.
    const late = [audience.add('rtmp', { url: rtmpUrl }), audience.add('http-flv', { url: flvUrl })];
    await Promise.all(late.map((v) => v.start()));
    for (const v of late) {
      const ttff = v.stats().ttffMs as number;
      assert.ok(ttff < 1000, `${v.protocol} ttff ${ttff} ms from the GOP cache`);
    }
    await eventually(
      'four clocks each',
      () => audience.viewers.slice(1).every((v) => v.stats().clocks >= 4),
      30_000,
    );
    for (const v of audience.viewers.slice(1)) {
      const s = v.stats();
      assert.equal(s.state, 'playing');
      assert.ok(
        s.delayLastMs !== null && s.delayLastMs >= 0 && s.delayLastMs < 1500,
        `${v.protocol} delay ${s.delayLastMs}`,
      );
      assert.ok(
        s.bitrate > media.bitrate * 0.7 && s.bitrate < media.bitrate * 2,
        `${v.protocol} ${s.bitrate} bit/s`,
      );
      assert.equal(s.stalls, 0, `${v.protocol} stalled`);
    }
    const d = audience.registry.takeDelta();
    assert.equal(d.histograms[seriesKey('viewer_ttff', { kind: 'rtmp' })]?.count, 2);
    assert.equal(d.histograms[seriesKey('viewer_ttff', { kind: 'http-flv' })]?.count, 1);
    assert.equal(d.counters[seriesKey('viewer_failures', { kind: 'http-flv', reason: 'http_status' })], 1);

    // The publisher leaves: the HTTP-FLV response ends, RTMP players stay connected (as on nginx).
    await pubs.stop();
    const httpFlv = late[1] as (typeof late)[number];
    const ended = await httpFlv.closed;
    assert.equal(ended?.reason, 'closed');
    assert.equal(waiting.stats().state, 'playing');
  } finally {
    await audience.stop();
    await pubs.stop();
    await flv.close();
    await ingest.close();
  }
});
