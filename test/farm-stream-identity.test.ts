import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInline } from './farm-support.js';

// Login codes (and so the platform's stream ids, `<login code>-<channel>-<hex>`) with Unicode and
// URL-special characters: published, found by the platform driver's check, in the summary.
test('a farm run with login codes like "摄像头 <x> a/b?c#d%-{index}": every ordered stream is received', async () => {
  const result = await runInline(
    `
name: stream-identity
target: embedded
devices:
  count: 3
  login_code: "摄像头 <x> a/b?c#d%-{index}"
stages:
  - { duration: 1s, target: 3 }
  - { duration: 12s, target: 3 }
platform:
  publish: { count: 3, quality: ld, after: 1s }
`,
  );
  const got = result.summary.platform?.received;
  assert.ok(got);
  assert.equal(got.streams.ordered, 3);
  assert.equal(got.streams.received, 3, 'the platform driver finds every stream at the ingest');
  assert.equal(got.streams.with_violations, 0);
  assert.equal(result.summary.metrics.counters['publishes{result:ok,reason:ok,quality:ld}'], 3);
  assert.equal(result.exitCode, 0);
});
