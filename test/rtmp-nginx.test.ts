// Publisher → nginx with libnginx-mod-rtmp recording to FLV: what a real third-party server makes
// of our stream, checked with ffprobe.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadFlv } from '../src/media/flv.js';
import { PublishScheduler } from '../src/media/rtmp/pacer.js';
import { RtmpPublisher } from '../src/media/rtmp/publisher.js';
import { eventually } from '../support/eventually.js';
import { makeFlv, nginxAvailable, probe, startNginxRtmp } from '../support/nginx-rtmp.js';

test('publisher → nginx-rtmp recording: ffprobe accepts it; duration, bitrate and timestamps hold across loops', async (t) => {
  if (!nginxAvailable()) {
    t.skip('nginx with libnginx-mod-rtmp is not installed (apt install nginx libnginx-mod-rtmp)');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'ivtfarm-rtmp-nginx-'));
  const nginx = await startNginxRtmp(dir, { record: true });
  const scheduler = new PublishScheduler({ windowMs: 200 });
  try {
    const clip = await loadFlv(await makeFlv(join(dir, 'clip.flv'), 3));
    const source = await probe(join(dir, 'clip.flv'));
    const pub = new RtmpPublisher({
      url: `rtmp://127.0.0.1:${nginx.port}/live/cam7`,
      media: clip,
      scheduler,
    });
    await pub.start();
    // Two loop boundaries of the 3 s clip, counted in media time (a busy machine only lags).
    await eventually('7 s of media sent', () => pub.stats().mediaTimeMs > 7000, 60_000);
    await pub.stop();
    assert.equal(await pub.closed, null);
    const sent = pub.stats();
    assert.equal(sent.loops, 2);
    await nginx.stop(); // finalises the recording

    const rec = await probe(join(nginx.recordDir, 'cam7.flv'));
    const expected = (sent.mediaTimeMs + 40) / 1000;
    assert.ok(Math.abs(rec.duration / expected - 1) < 0.1, `recorded ${rec.duration} s, sent ${expected} s`);
    assert.ok(rec.duration > 6.5, `recorded ${rec.duration} s`);
    assert.ok(
      Math.abs(rec.bitRate / source.bitRate - 1) < 0.1,
      `recording ${rec.bitRate} bit/s vs rendition ${source.bitRate} bit/s`,
    );
    for (const type of ['video', 'audio']) {
      const dts = rec.packets.filter((p) => p.codecType === type).map((p) => p.dts);
      assert.ok(dts.length > 0, `${type} packets recorded`);
      const back = dts.findIndex((v, i) => i > 0 && v < (dts[i - 1] as number));
      assert.equal(back, -1, `${type} DTS goes back at packet ${back}: ${dts[back - 1]} → ${dts[back]}`);
    }
    const video = rec.packets.filter((p) => p.codecType === 'video');
    // 25 fps for ~7 s: frames from all three passes arrived, none lost at the loop joins.
    assert.ok(video.length >= 170, `${video.length} video frames`);
    const log = await nginx.errorLog();
    assert.doesNotMatch(log, /\[(error|crit|alert|emerg)\]/, log);
  } finally {
    scheduler.close();
    await nginx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
