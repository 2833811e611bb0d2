import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { Scheduler } from '../src/core/scheduler.js';
import { SimulatedDevice } from '../src/device/device.js';
import { DeviceMetrics } from '../src/farm/device-metrics.js';
import { FarmMediaSink } from '../src/farm/media-sink.js';
import { loadCatalogue } from '../src/media/catalogue.js';
import { RtmpPublisherPool } from '../src/media/rtmp/publisher-pool.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { eventually } from '../support/eventually.js';
import { TestPlatform } from './device-platform.js';

// Every DeviceObserver callback of a device ends up as a farm metric (and so in summary.json):
// injected faults, rejected events, media failures.

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

test('faults_injected, events_rejected and media_failures are counted from the device observer', async () => {
  const platform = await new TestPlatform().listen();
  cleanups.push(() => platform.close());
  const scheduler = new Scheduler();
  const registry = new MetricsRegistry({ source: 'test' });
  const sink = new FarmMediaSink(loadCatalogue(), new RtmpPublisherPool(), registry, scheduler);
  cleanups.push(() => sink.close());
  const d = new SimulatedDevice(
    { url: platform.url, loginCode: 'obs-1', password: 'pw', faults: { slowAnswerMs: 30 } },
    { scheduler, observer: new DeviceMetrics(registry, 'test'), media: sink },
  );
  cleanups.push(() => d.stop());
  d.start();
  const session = await platform.nextSession();
  await session.waitFor('Keepalive');
  // A slow answer (the fault fires), an event for a channel the camera does not have, and a
  // push to a port where nobody listens (the media layer fails it).
  await session.call('GetNetConfig', { channel: 0 });
  session.event('CtrlPTZ', { channel: 7, op: 'left', value: 50 });
  const answer = await session.call('RTMPPublish', {
    channel: 0,
    quality: 'ld',
    url: `rtmp://127.0.0.1:${await closedPort()}/live/nobody`,
    stream_id: 'nobody',
    max_bitrate: 0,
  });
  assert.ok('resp' in answer, 'accepted first; the push fails afterwards');
  const totals: Record<string, number> = {};
  await eventually(
    'the media failure',
    () => {
      for (const [k, v] of Object.entries(registry.takeDelta().counters)) totals[k] = (totals[k] ?? 0) + v;
      return (totals['media_failures{kind:publish}'] ?? 0) >= 1;
    },
    10_000,
  );
  assert.ok((totals['faults_injected{type:slow_answer}'] ?? 0) >= 2, JSON.stringify(totals));
  assert.equal(totals['events_rejected{event:CtrlPTZ}'], 1);
});
