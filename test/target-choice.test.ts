// Devices over several target URLs: the rule of docs/scenarios.md#target, as a user relies on it —
// even spread, the same URL whatever the list's order, and little movement when a gateway is added.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { targetUrlFor } from '../src/core/target-choice.js';

const urls = [1, 2, 3, 4].map((i) => `ws://127.0.0.1:${8080 + i}/ivc`);
const codes = Array.from({ length: 20_000 }, (_, i) => `cam-${String(i).padStart(5, '0')}`);

test('devices spread evenly over the URLs, each to the same URL whatever the order of the list', () => {
  const perUrl = new Map<string, number>();
  const reversed = [...urls].reverse();
  for (const code of codes) {
    const url = targetUrlFor(code, urls);
    assert.equal(targetUrlFor(code, reversed), url);
    perUrl.set(url, (perUrl.get(url) ?? 0) + 1);
  }
  assert.equal(perUrl.size, urls.length);
  for (const [url, n] of perUrl)
    assert.ok(Math.abs(n - codes.length / 4) < codes.length * 0.03, `${url}: ${n}`);
});

test('adding a fifth URL moves only the devices that go to it', () => {
  const more = [...urls, 'ws://127.0.0.1:8085/ivc'];
  let moved = 0;
  for (const code of codes) {
    const before = targetUrlFor(code, urls);
    const after = targetUrlFor(code, more);
    if (after !== before) {
      moved++;
      assert.equal(after, more[4]);
    }
  }
  assert.ok(Math.abs(moved - codes.length / 5) < codes.length * 0.03, `moved ${moved}`);
  assert.equal(targetUrlFor('cam-1', ['ws://only/ivc']), 'ws://only/ivc');
});
