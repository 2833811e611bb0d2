import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closest } from '../src/core/suggest.js';
import {
  arrivalsUntil,
  compileLoginCode,
  formatDuration,
  parseBitrate,
  parseDuration,
  parseRate,
  parseSize,
  stagesDurationMs,
  targetAt,
} from '../src/scenario/index.js';
import { checkLoginCode, TemplateError } from '../src/scenario/template.js';

describe('unit strings', () => {
  it('durations', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1m30s250ms'), 90_250);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration(12), 12_000, 'a bare number is seconds');
    for (const bad of ['', '10', '10 s', 's', '1x', '-1s', 'm30s'])
      assert.throws(() => parseDuration(bad), bad);
  });

  it('rates', () => {
    assert.equal(parseRate('100/s'), 100);
    assert.equal(parseRate('1/15m'), 1 / 900);
    assert.equal(parseRate('3 / 2h'), 3 / 7200);
    assert.equal(parseRate('5/100ms'), 50);
    assert.equal(parseRate(7), 7);
    for (const bad of ['100', '1/0s', '/s', '1/15 minutes']) assert.throws(() => parseRate(bad), bad);
  });

  it('bitrates are decimal, sizes binary', () => {
    assert.equal(parseBitrate('256k'), 256_000);
    assert.equal(parseBitrate('2M'), 2_000_000);
    assert.equal(parseBitrate('1.5M'), 1_500_000);
    assert.equal(parseBitrate('2000000'), 2_000_000);
    assert.equal(parseBitrate('512kbps'), 512_000);
    assert.equal(parseBitrate(0), 0);
    assert.equal(parseSize('4M'), 4 * 1024 * 1024);
    assert.equal(parseSize('512KiB'), 512 * 1024);
    assert.equal(parseSize(1000), 1000);
    for (const bad of ['2 M', 'fast', '2T']) assert.throws(() => parseBitrate(bad), bad);
  });

  it('formatDuration round-trips', () => {
    for (const ms of [0, 1, 999, 1000, 61_500, 5_400_000, 3_723_004]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
    assert.equal(formatDuration(5_400_000), '1h30m');
  });
});

describe('stages', () => {
  const stages = [
    { durationMs: 30_000, target: 2000 },
    { durationMs: 60_000, target: 2000 },
    { durationMs: 10_000, target: 0 },
  ];

  it('interpolates linearly within a stage, k6 ramping style', () => {
    assert.equal(targetAt(stages, 0), 0);
    assert.equal(targetAt(stages, 15_000), 1000);
    assert.equal(targetAt(stages, 30_000), 2000);
    assert.equal(targetAt(stages, 60_000), 2000);
    assert.equal(targetAt(stages, 95_000), 1000);
    assert.equal(targetAt(stages, 100_000), 0);
    assert.equal(targetAt(stages, 1e9), 0, 'the last target holds after the end');
    assert.equal(targetAt(stages, -5), 0);
    assert.equal(stagesDurationMs(stages), 100_000);
  });

  it('a zero-length stage is a step; a start value is honoured', () => {
    const step = [
      { durationMs: 0, target: 50 },
      { durationMs: 1000, target: 50 },
    ];
    assert.equal(targetAt(step, 0), 50);
    assert.equal(targetAt([{ durationMs: 1000, target: 20 }], 500, 10), 15);
  });

  it('counts open-model arrivals as the integral of the rate', () => {
    const ramp = [
      { durationMs: 10_000, target: 100 },
      { durationMs: 10_000, target: 100 },
    ];
    assert.equal(arrivalsUntil(ramp, 10_000), 500);
    assert.equal(arrivalsUntil(ramp, 20_000), 1500);
    assert.equal(arrivalsUntil(ramp, 25_000), 2000, 'the last rate continues');
    assert.equal(arrivalsUntil([], 3000, 10), 30, 'constant start rate without stages');
    assert.equal(arrivalsUntil(ramp, 5000), 125);
  });
});

describe('login code templates', () => {
  it('pads, numbers and escapes', () => {
    assert.equal(compileLoginCode('sim-{index:05}')(42, 0), 'sim-00042');
    assert.equal(compileLoginCode('sim-{index}')(42, 0), 'sim-42');
    assert.equal(compileLoginCode('dev{number:03}@s{shard}')(0, 3), 'dev001@s3');
    assert.equal(compileLoginCode('{{x}}-{index}')(7, 0), '{x}-7');
  });

  it('rejects unknown placeholders and templates that repeat codes', () => {
    assert.throws(() => checkLoginCode('sim-{idx}', 10), TemplateError);
    assert.throws(() => checkLoginCode('sim-{index', 10), TemplateError);
    assert.throws(() => checkLoginCode('sim-{shard}', 10), /every device needs its own code/);
    assert.doesNotThrow(() => checkLoginCode('only-one', 1));
  });
});

describe('did you mean', () => {
  const known = ['name', 'devices', 'duration', 'stages', 'arrival', 'thresholds', 'login_code'];
  it('suggests the closest field, forgiving case and separators', () => {
    assert.equal(closest('devces', known), 'devices');
    assert.equal(closest('stgaes', known), 'stages');
    assert.equal(closest('treshold', known), 'thresholds');
    assert.equal(closest('loginCode', known), 'login_code');
    assert.equal(closest('thresh', known), 'thresholds', 'a unique prefix');
    assert.equal(closest('d', known), undefined);
    assert.equal(closest('zzzzzz', known), undefined);
  });
});
