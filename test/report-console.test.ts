import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSeriesKey } from '../src/metrics/labels.js';
import { formatSummary } from '../src/report/console.js';
import { renderHtmlReport } from '../src/report/html.js';
import { runInline } from './farm-support.js';

test('the summary shows every histogram, and streams devices push by themselves are judged at the platform', async () => {
  // No `platform:` orders at all: every stream is a standing push (devices.push).
  const result = await runInline(`
name: push-only
target: embedded
devices:
  count: 4
  login_code: "po-{index:02}"
  mix: [{ weight: 1, kind: camera }]
  push: { url: embedded, quality: ld, channels: 1, fraction: 1 }
stages:
  - { duration: 1s, target: 4 }
  - { duration: 14s, target: 4 }
alarms: { per_channel: "1/4s", types: { motion: 1 }, duration: 1s }
`);
  const s = result.summary;
  const got = s.platform?.received;
  assert.ok(got, 'the embedded platform reports what it received');
  assert.equal(got.streams.ordered, 0);
  assert.equal(got.streams.pushed, 4, 'each camera pushes its first channel');
  assert.equal(got.streams.received, 4, 'the ingest saw all four');
  assert.ok(got.streams.judged >= 1, 'streams older than 10 s are judged');
  assert.equal(got.streams.within_10pct, got.streams.judged);

  const text = formatSummary(s);
  assert.match(text, /streams in +4\/4 \(0 ordered, 4 pushed\) received/);
  assert.match(text, /publishes +ordered 0 .*pushed by devices 4/);
  // A line for every histogram the run recorded, named as a threshold would name it.
  const recorded = Object.entries(s.metrics.histograms).filter(([, h]) => h.count > 0);
  const names = new Set(recorded.map(([k]) => parseSeriesKey(k).name));
  for (const name of [
    'alarm_rtt',
    'publish_start_duration',
    'rpc_duration',
    'keepalive_rtt',
    'login_duration',
  ])
    assert.ok(names.has(name), `${name} was recorded`);
  for (const [key, h] of recorded) {
    const line = text.split('\n').find((l) => l.trimStart().startsWith(`${key} `));
    assert.ok(line, `a percentile line for ${key}`);
    assert.match(line, new RegExp(`p50 .* p95 .* p99 .* max .*\\(n=${h.count}\\)`));
  }
  assert.match(text, /rpc_duration\{method:AlarmNotify,direction:to_ivc\} +p50 [\d.]+ms/);

  const html = await renderHtmlReport(result.dir);
  assert.match(html, /<th>pushed by devices<\/th>/);
  assert.match(html, /<td>streams<\/td><td class="n">0<\/td><td class="n">4<\/td><td class="n">4<\/td>/);
});
