import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInline } from './farm-support.js';

test('ordered streams reach the embedded ingest at their bitrate and recordings upload every segment', async () => {
  const result = await runInline(
    `
name: farm-media
target: embedded
devices:
  count: 8
  login_code: "fm-{index:02}"
  mix: [{ weight: 1, kind: nvr, channels: 4 }]
  push: { url: embedded, quality: ld, channels: 1, fraction: 0.5 }
stages:
  - { duration: 2s, target: 8 }
  - { duration: 24s, target: 8 }
alarms: { per_channel: "1/10s", types: { motion: 1 }, duration: 2s }
platform:
  publish: { count: 10, quality: ld, after: 1s }
  record: { count: 5, quality: ld, after: 1s, seg_duration: 4 }
`,
  );
  const s = result.summary;
  const c = s.metrics.counters;
  const got = s.platform?.received;
  assert.ok(got);
  assert.equal(got.streams.ordered, 10);
  // The platform's 10 orders, plus the devices that push by themselves (devices.push, about half),
  // which the platform sees live at login and judges at its ingest like the ordered ones.
  const pushed = (c['publishes{result:ok,reason:ok,quality:ld}'] ?? 0) - 10;
  assert.ok(pushed >= 1 && pushed <= 7, `devices pushing by themselves: ${pushed}`);
  assert.equal(got.streams.pushed, pushed);
  assert.equal(got.streams.received, 10 + pushed);
  assert.equal(got.streams.within_10pct, got.streams.judged);
  assert.ok(got.streams.judged >= 8 + pushed, `streams judged: ${got.streams.judged}`);
  assert.equal(got.streams.with_violations, 0);
  // Every live stream's bitrate is sampled each second (over a trailing 5 s), not every 5 s: a
  // stream judged (≥ 10 s at the ingest) gives at least 5 samples.
  const ratio = s.metrics.histograms['bitrate_achieved_ratio{quality:ld}'];
  assert.ok(
    (ratio?.count ?? 0) >= got.streams.judged * 5,
    `${ratio?.count} bitrate samples for ${got.streams.judged} streams`,
  );
  assert.equal(s.metrics.histograms['publish_start_duration{quality:ld}']?.count, 10 + pushed);
  assert.ok((c['bytes_sent{kind:rtmp}'] ?? 0) > (10 * 20 * 200_000) / 8, 'about 20 s of ld per stream');

  assert.equal(got.recordings!.ordered, 5);
  assert.equal(got.recordings!.with_segments, 5);
  assert.equal(got.recordings!.saved, 5, 'op=save at the end of every recording');
  assert.equal(got.recordings!.fails, 0);
  // What the devices say they uploaded is what the platform received.
  assert.equal(got.recordings!.segments, c.segments_created);
  assert.equal(got.recordings!.bytes, c['bytes_sent{kind:upload}']);
  assert.ok(got.recordings!.segments >= 5 * 4, `segments: ${got.recordings!.segments}`);
  assert.equal(Object.keys(c).filter((k) => k.startsWith('segments_dropped')).length, 0);

  // Alarm pictures went up after AlarmNotify start.
  assert.ok((c['bytes_sent{kind:picture}'] ?? 0) > 0);
  assert.ok((s.metrics.histograms.alarm_picture_upload_duration?.count ?? 0) > 0);
  assert.equal(result.exitCode, 0);
});
