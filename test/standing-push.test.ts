import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Scheduler } from '../src/core/scheduler.js';
import { SimulatedDevice } from '../src/device/device.js';
import { FarmMediaSink } from '../src/farm/media-sink.js';
import { type RunningIvc, startIvc } from '../src/ivc/server.js';
import { loadCatalogue } from '../src/media/catalogue.js';
import { RtmpIngestServer } from '../src/media/rtmp/ingest-server.js';
import { RtmpPublisherPool } from '../src/media/rtmp/publisher-pool.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { eventually } from '../support/eventually.js';

// SetRTMPPublishConfig entries with `enable: true` push by themselves, with real RTMP into the
// reference platform's ingest, and are retried after a failure.
let ivc: RunningIvc;
const scheduler = new Scheduler();
const registry = new MetricsRegistry({ source: 'test' });
const pool = new RtmpPublisherPool();
const sink = new FarmMediaSink(loadCatalogue(), pool, registry, scheduler);
const devices: SimulatedDevice[] = [];
const timings = { keepaliveMs: 300, pushRetryMs: 300 };

before(async () => {
  ivc = await startIvc({ port: 0, auth: { password: 'pw' }, rtmpIngest: { port: 0 } });
});
after(async () => {
  await Promise.all(devices.map((d) => d.stop()));
  await sink.close();
  await ivc.close();
});

function device(loginCode: string, extra: Partial<ConstructorParameters<typeof SimulatedDevice>[0]> = {}) {
  const d = new SimulatedDevice(
    { url: ivc.url, loginCode, password: 'pw', kind: 'nvr', channels: 2, timings, ...extra },
    { scheduler, media: sink },
  );
  devices.push(d);
  d.start();
  return d;
}

const liveStream = (name: string) => {
  const s = ivc.platform.ingest!.stream(name);
  return s && s.endedAt === null && s.mediaBytes > 0 ? s : undefined;
};

test('SetRTMPPublishConfig enable:true pushes by itself, shows live without a stream_id, is retried after a failure, stops when disabled', async () => {
  const d = device('standing-1');
  await eventually('online', () => d.isOnline);
  const url = `${ivc.rtmpUrl}/standing-one`;
  const set = (enable: boolean) =>
    ivc.commands.rpc('standing-1', 'SetRTMPPublishConfig', [{ enable, channel: 1, quality: 'ld', url }]);
  const answer = await set(true);
  assert.deepEqual('resp' in answer ? answer.resp : answer, {});
  const first = await eventually('the push reaches the ingest', () => liveStream('standing-one'));
  assert.equal(d.channels[1]!.state, 2);
  assert.equal(d.channels[1]!.stream_id, undefined, 'a standing push has no stream_id to report');
  const keepalive = await eventually('keepalive shows channel 1 live', () => {
    const ch = ivc.platform.devices.get('standing-1')?.channels.find((c) => c.channel === 1);
    return ch?.state === 2 ? ch : undefined;
  });
  assert.ok(!keepalive.stream_id, 'no stream_id reported');

  // The platform drops the stream: the device pushes again after pushRetryMs.
  assert.ok(ivc.platform.ingest!.kick('standing-one'));
  const second = await eventually('pushed again', () => {
    const s = liveStream('standing-one');
    return s && s.id !== first.id ? s : undefined;
  });
  assert.ok(second.startedAt > first.startedAt);

  await set(false);
  await eventually('the push stops', () => ivc.platform.ingest!.stream('standing-one')?.endedAt !== null);
  assert.equal(d.channels[1]!.state, 1);
});

test('a device configured with a standing push publishes by itself from its first login', async () => {
  const url = `${ivc.rtmpUrl}/self-pushed`;
  const d = device('standing-2', { rtmpPublishConfig: [{ enable: true, channel: 0, quality: 'ld', url }] });
  await eventually('the push reaches the ingest', () => liveStream('self-pushed'));
  assert.equal(d.channels[0]!.state, 2);
  // The platform's own RTMPPublish on that channel is a duplicate (one stream per channel).
  const answer = await ivc.commands.rpc('standing-2', 'RTMPPublish', {
    channel: 0,
    quality: 'ld',
    url: `${ivc.rtmpUrl}/other`,
    stream_id: 'other',
    max_bitrate: 0,
  });
  assert.equal('err' in answer ? answer.err?.code : 0, 12);
});

test('a stopped device never publishes again: its standing-push retry dies with it (real RTMP ingest)', async () => {
  // An ingest that refuses every publish until told otherwise, and counts every attempt.
  let accept = false;
  let attempts = 0;
  const ingest = new RtmpIngestServer({
    authorize: () => {
      attempts++;
      return accept;
    },
  });
  const { port } = await ingest.listen();
  try {
    const url = `rtmp://127.0.0.1:${port}/live/after-stop`;
    const d = device('standing-stop', {
      rtmpPublishConfig: [{ enable: true, channel: 0, quality: 'ld', url }],
    });
    // Refused, retried after pushRetryMs, refused again: the retry is armed.
    await eventually('two refused attempts', () => attempts >= 2);
    await d.stop();
    const atStop = attempts;
    accept = true;
    // Several retry periods later, nothing has even tried to publish.
    await new Promise((r) => setTimeout(r, timings.pushRetryMs * 5));
    assert.equal(attempts, atStop, 'no publish attempt after stop()');
    assert.equal(ingest.stream('after-stop'), null);
    assert.equal(d.channels[0]!.state, 1);
  } finally {
    await ingest.close();
  }
});
