import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Aggregator } from '../src/metrics/aggregator.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { evaluateThresholds, parseThresholds, thresholdWindows } from '../src/metrics/thresholds.js';
import { WindowTotals } from '../src/metrics/window-totals.js';
import { runInline } from './farm-support.js';

const CAMERAS = 30;

test('gauges are judged during the load, not on the teardown: min over a named stage passes at N and fails at N+10', async () => {
  const result = await runInline(`
name: gauge-thresholds
target: embedded
devices:
  count: ${CAMERAS}
  login_code: "gt-{index:03}"
  mix: [{ weight: 1, kind: camera }]
  push: { url: embedded, quality: ld }
stages:
  - { duration: 2s, target: ${CAMERAS} }
  - { duration: 3s, target: ${CAMERAS} }
  - { name: hold, duration: 6s, target: ${CAMERAS} }
thresholds:
  "streams_live{quality:ld}":
    - { threshold: "min>=${CAMERAS}", during: hold }
    - { threshold: "min>=${CAMERAS + 10}", during: hold }
    - "value>=${CAMERAS}"
    - "max>=${CAMERAS}"
  "devices{state:online}":
    - { threshold: "avg>=${CAMERAS}", during: "5s..11s" }
`);
  const byExpr = (metric: string, expression: string) => {
    const r = result.summary.thresholds.find((t) => t.metric === metric && t.expression === expression);
    assert.ok(r, `${metric} ${expression}`);
    return r;
  };
  const streams = 'streams_live{quality:ld}';
  assert.deepEqual(byExpr(streams, `min>=${CAMERAS}`), {
    metric: streams,
    expression: `min>=${CAMERAS}`,
    ok: true,
    observed: CAMERAS,
    during: 'hold',
  });
  assert.equal(byExpr(streams, `min>=${CAMERAS + 10}`).ok, false);
  assert.equal(byExpr(streams, `min>=${CAMERAS + 10}`).observed, CAMERAS);
  // `value` (= last) is the last second before the teardown, not the 0 after it.
  assert.equal(byExpr(streams, `value>=${CAMERAS}`).observed, CAMERAS);
  assert.equal(byExpr(streams, `value>=${CAMERAS}`).ok, true);
  assert.equal(byExpr('devices{state:online}', `avg>=${CAMERAS}`).ok, true);
  assert.equal(result.summary.run.verdict, 'fail', 'the N+10 threshold fails the run');
  assert.ok(result.summary.window_totals?.hold, 'window totals kept for ivtfarm merge');
});

test('a `during` window sees only its whole seconds; avg and last of a gauge; the teardown is never judged', () => {
  const T0 = 1_700_000_000;
  let ms = T0 * 1000 + 5;
  const reg = new MetricsRegistry({ source: 'w', now: () => ms });
  const agg = new Aggregator();
  const thresholds = parseThresholds(
    {
      devices: [
        { threshold: 'min>=10', during: '2s..5s' },
        { threshold: 'avg==11', during: '2s..5s' },
        'last==12',
        'max==12',
      ],
    },
    {},
  );
  const windows = new WindowTotals(thresholdWindows(thresholds)).attach(agg);
  agg.markLoadStart(T0 * 1000);
  const online = [0, 5, 10, 11, 12, 12, 12];
  online.forEach((n, i) => {
    reg.gauge('devices', { state: 'online' }).set(n);
    ms += 1000;
    agg.add(reg.takeDelta());
    if (i === online.length - 2) agg.markLoadEnd(ms - 500);
  });
  // The teardown: every device gone.
  reg.gauge('devices', { state: 'online' }).set(0);
  ms += 1000;
  agg.add(reg.takeDelta());
  agg.closeAll();
  const r = evaluateThresholds(thresholds, agg.totals, windows.totals);
  // Seconds 2, 3, 4 of the load: 10, 11, 12.
  assert.deepEqual(
    r.map((x) => [x.expression, x.observed, x.ok]),
    [
      ['min>=10', 10, true],
      ['avg==11', 11, true],
      ['last==12', 12, true],
      ['max==12', 12, true],
    ],
  );
  assert.equal(agg.totals.gauges.get('devices{state:online}')?.min, 0, 'the ramp counts for the whole run');
});

test('`during` names a stage or a range; a mistake says what was meant', () => {
  const stages = { hold: { fromMs: 2000, toMs: 8000 } };
  const [a, b, c] = parseThresholds(
    {
      devices: [
        { threshold: 'min>=1', during: 'hold' },
        { threshold: 'min>=1', during: '30s..' },
        { threshold: 'min>=1', during: '..1m' },
      ],
    },
    { stages },
  );
  assert.deepEqual(a!.during, { label: 'hold', fromMs: 2000, toMs: 8000 });
  assert.deepEqual(b!.during, { label: '30s..', fromMs: 30_000, toMs: Number.POSITIVE_INFINITY });
  assert.deepEqual(c!.during, { label: '..1m', fromMs: 0, toMs: 60_000 });
  assert.throws(
    () => parseThresholds({ devices: [{ threshold: 'min>=1', during: 'hodl' }] }, { stages }),
    /no stage named "hodl" \(did you mean "hold"\?\)/,
  );
  assert.throws(
    () => parseThresholds({ devices: [{ threshold: 'min>=1', during: '90s..30s' }] }, { stages }),
    /ends before it starts/,
  );
  assert.throws(
    () => parseThresholds({ device: ['min>=1'] }),
    /unknown metric "device" \(did you mean "devices"\?\)/,
  );
});
