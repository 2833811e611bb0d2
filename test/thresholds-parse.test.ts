import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../src/core/duration.js';
import { parseExpression, parseSelector, ThresholdSyntaxError } from '../src/metrics/threshold-expr.js';
import { parseThresholds, ThresholdConfigError } from '../src/metrics/thresholds.js';

test('every k6 expression form parses', () => {
  const cases: Array<[string, unknown, string, number]> = [
    ['p(99)<500', { name: 'p', p: 99 }, '<', 500],
    ['p(99.9)<=1000', { name: 'p', p: 99.9 }, '<=', 1000],
    ['avg<200', { name: 'avg' }, '<', 200],
    ['med<100', { name: 'med' }, '<', 100],
    ['min>0', { name: 'min' }, '>', 0],
    ['max<2000', { name: 'max' }, '<', 2000],
    ['rate<0.001', { name: 'rate' }, '<', 0.001],
    ['count==0', { name: 'count' }, '==', 0],
    ['count>=100', { name: 'count' }, '>=', 100],
    ['value>0.95', { name: 'value' }, '>', 0.95],
    [' p( 95 ) < 8e2 ', { name: 'p', p: 95 }, '<', 800],
    ['count===0', { name: 'count' }, '==', 0],
    ['rate!=1', { name: 'rate' }, '!=', 1],
  ];
  for (const [src, agg, op, value] of cases) {
    const e = parseExpression(src);
    assert.deepEqual(e.agg, agg, src);
    assert.equal(e.op, op, src);
    assert.equal(e.value, value, src);
  }
});

test('syntax errors name what was expected and the column', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['p99<500', 1, /an aggregation/],
    ['p(99<500', 5, /"\)" closing p\(/],
    ['p(101)<5', 3, /percentile between 0 and 100/],
    ['avg 200', 5, /comparison operator/],
    ['avg<', 5, /a number at column 5, found the end/],
    ['avg<200ms', 8, /the end of the expression/],
    ['mean<3', 1, /aggregation \(avg, min, max, med, count, rate, last, value or p\(N\)\)/],
  ];
  for (const [src, column, re] of cases) {
    assert.throws(
      () => parseExpression(src),
      (e: unknown) => e instanceof ThresholdSyntaxError && e.column === column && re.test(e.message),
      src,
    );
  }
});

test('selectors take a k6 label filter', () => {
  assert.deepEqual(parseSelector('rpc_duration{method:RTMPPublish}').filter, { method: 'RTMPPublish' });
  assert.deepEqual(parseSelector('logins{ result: failed , reason:"http_401" }').filter, {
    result: 'failed',
    reason: 'http_401',
  });
  assert.deepEqual(parseSelector('keepalive_rtt').filter, {});
  assert.throws(() => parseSelector('rpc_duration{colour:red}'), /expected a label key .* at column 14/);
  assert.throws(() => parseSelector('rpc_duration{method RTMPPublish}'), /":" between label key and value/);
  assert.throws(() => parseSelector('rpc_duration{method:a,method:b}'), /method repeats/);
  assert.throws(() => parseSelector('rpc_duration{method:a'), /"," or "}" at column 22/);
});

test('durations in k6 notation: one grammar for scenario fields and threshold options', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration(12), 12_000);
  assert.throws(() => parseDuration('30 seconds'), /invalid duration/);
  const [th] = parseThresholds({
    rpc_errors: [{ threshold: 'rate<0.1', window: '1m30s', delay_abort_eval: 12 }],
  });
  assert.equal(th!.windowS, 90);
  assert.equal(th!.delayAbortEvalS, 12);
});

test('a thresholds map is checked against the catalogue, all problems at once', () => {
  const ok = parseThresholds({
    login_duration: ['p(99)<1000'],
    'rpc_duration{method:RTMPPublish}': ['p(95)<800'],
    rpc_errors: [{ threshold: 'rate<0.001', abort_on_fail: true, window: '30s', delay_abort_eval: '1m' }],
    'devices{state:online}': 'value>0.95',
    disconnects: ['count==0'],
  });
  assert.equal(ok.length, 5);
  const rpc = ok.find((t) => t.metric === 'rpc_errors')!;
  assert.equal(rpc.abortOnFail, true);
  assert.equal(rpc.windowS, 30);
  assert.equal(rpc.delayAbortEvalS, 60);

  assert.throws(
    () =>
      parseThresholds({
        login_durations: ['p(99)<1000'],
        keepalive_rtt: ['rate<0.1', 'p(99)<'],
        'rpc_duration{code:1}': ['p(99)<5'],
        alarms: ['rate<0.1'],
        logins: ['rate<0.01'],
        devices: ['p(99)<3'],
      }),
    (e: unknown) => {
      assert.ok(e instanceof ThresholdConfigError);
      const text = e.problems.map((p) => `${p.key}: ${p.message}`).join('\n');
      assert.equal(e.problems.length, 7, text);
      assert.match(text, /unknown metric "login_durations"/);
      assert.match(text, /rate does not apply to histogram keepalive_rtt/);
      assert.match(text, /expected a number at column 7/);
      assert.match(text, /rpc_duration has no label "code"/);
      assert.match(text, /rate is not defined for alarms/);
      assert.match(text, /rate of logins is a share of its own events: filter on result or reason/);
      assert.match(text, /p\(N\) does not apply to gauge devices/);
      return true;
    },
  );
});
