// k6 interop, judged against k6's documented formats (grafana.com/docs/k6/latest/results-output/
// real-time/json/ and the `--summary-export` shape): an ivtfarm run written as k6 JSON lines, k6
// JSON lines folded into a run's metrics and thresholds, the summary in k6's export shape, and
// a scenario naming a k6 script refused when no `k6` is on the PATH. k6 itself is not installed
// here (it is in no registry this machine reaches): its launch is never faked.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseOutFlags } from '../src/k6/out-flag.js';
import { K6JsonOutput } from '../src/k6/output.js';
import { k6SummaryExport } from '../src/k6/summary-export.js';
import { K6ResultsTail } from '../src/k6/tail.js';
import { Aggregator } from '../src/metrics/aggregator.js';
import { evaluateThresholds, parseThresholds } from '../src/metrics/thresholds.js';
import { runCli, runInline } from './farm-support.js';

const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-k6-'));

/** RFC 3339 with a zone, as k6 writes `data.time`. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

describe('--out k6-json', () => {
  it("writes a run as k6's documented JSON lines: Metric declarations, then Points", async () => {
    const file = join(dir, 'run.k6.json');
    const r = await runInline(
      `
devices: { count: 4 }
duration: 4s
http_load:
  - name: stats
    url: /api/stats
    connections: 2
    rate: 20/s
`,
      { observers: [new K6JsonOutput(file)] },
    );
    assert.equal(r.exitCode, 0, r.summary.run.reasons?.join('; '));
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const declared = new Map<string, { type: string; contains: string }>();
    const sums = new Map<string, number>();
    let trendPoints = 0;
    for (const [i, text] of lines.entries()) {
      const where = `line ${i + 1}: ${text.slice(0, 120)}`;
      const x = JSON.parse(text) as Record<string, unknown>;
      assert.deepEqual(Object.keys(x).sort(), ['data', 'metric', 'type'], where);
      assert.equal(typeof x.metric, 'string', where);
      const data = x.data as Record<string, unknown>;
      if (x.type === 'Metric') {
        assert.ok(['counter', 'gauge', 'rate', 'trend'].includes(data.type as string), where);
        assert.ok(['default', 'time', 'data'].includes(data.contains as string), where);
        assert.ok(Array.isArray(data.thresholds), where);
        assert.equal(data.submetrics, null, where);
        assert.ok(!declared.has(x.metric as string), `declared once: ${where}`);
        declared.set(x.metric as string, { type: data.type as string, contains: data.contains as string });
        continue;
      }
      assert.equal(x.type, 'Point', where);
      assert.ok(declared.has(x.metric as string), `a point after its metric's declaration: ${where}`);
      assert.match(data.time as string, RFC3339, where);
      assert.equal(typeof data.value, 'number', where);
      const tags = data.tags as Record<string, unknown> | null;
      assert.ok(tags === null || typeof tags === 'object', where);
      for (const v of Object.values(tags ?? {})) assert.equal(typeof v, 'string', where);
      if (x.metric === 'http_requests')
        sums.set('http_requests', (sums.get('http_requests') ?? 0) + (data.value as number));
      if (x.metric === 'http_duration') trendPoints++;
    }
    assert.deepEqual(declared.get('http_duration'), { type: 'trend', contains: 'time' });
    assert.equal(declared.get('http_requests')?.type, 'counter');
    assert.equal(declared.get('devices')?.type, 'gauge');
    const answered = Object.entries(r.summary.metrics.counters)
      .filter(([k]) => k.startsWith('http_requests'))
      .reduce((n, [, v]) => n + v, 0);
    assert.ok(answered > 0);
    assert.equal(sums.get('http_requests'), answered, 'the counter points add up to the run total');
    assert.equal(
      trendPoints,
      r.summary.metrics.histograms['http_duration{load:stats}']?.count,
      'one trend point per answer',
    );
  });
});

/** k6's documented example lines, then more in the same shape (HTTP requests by status, a check, a custom trend). */
const K6_LINES = [
  '{"type":"Metric","data":{"type":"gauge","contains":"default","tainted":null,"thresholds":[],"submetrics":null},"metric":"vus"}',
  '{"type":"Point","data":{"time":"2017-05-09T14:34:45.625742514+02:00","value":5,"tags":null},"metric":"vus"}',
  '{"type":"Metric","data":{"type":"trend","contains":"time","tainted":null,"thresholds":["avg<1000"],"submetrics":null},"metric":"http_req_duration"}',
  '{"type":"Point","data":{"time":"2017-05-09T14:34:45.239531499+02:00","value":459.865729,"tags":{"group":"::my group::json","method":"GET","status":"200","url":"https://httpbin.test.k6.io/get"}},"metric":"http_req_duration"}',
  '{"type":"Metric","data":{"name":"http_reqs","type":"counter","contains":"default","thresholds":[],"submetrics":null},"metric":"http_reqs"}',
  '{"type":"Point","data":{"time":"2017-05-09T14:34:45.239531499+02:00","value":1,"tags":{"method":"GET","status":"200"}},"metric":"http_reqs"}',
  '{"type":"Point","data":{"time":"2017-05-09T14:34:46.1+02:00","value":1,"tags":{"method":"GET","status":"503"}},"metric":"http_reqs"}',
  '{"type":"Point","data":{"time":"2017-05-09T14:34:46.2+02:00","value":1,"tags":{"method":"GET","status":"0"}},"metric":"http_reqs"}',
  '{"type":"Metric","data":{"name":"checks","type":"rate","contains":"default","thresholds":[],"submetrics":null},"metric":"checks"}',
  '{"type":"Point","data":{"time":"2017-05-09T14:34:46.3+02:00","value":1,"tags":{"check":"status is 200"}},"metric":"checks"}',
  '{"type":"Point","data":{"time":"2017-05-09T14:34:46.4+02:00","value":0,"tags":{"check":"status is 200"}},"metric":"checks"}',
  '{"type":"Metric","data":{"name":"open_live","type":"trend","contains":"time","thresholds":[],"submetrics":null},"metric":"open_live"}',
  '{"type":"Point","data":{"time":"2017-05-09T14:34:46.5+02:00","value":120,"tags":null},"metric":"open_live"}',
];

describe('k6 JSON lines into the run', () => {
  it("folds k6's HTTP metrics, checks and custom metrics into the run's metrics, where thresholds judge them", () => {
    const file = join(dir, 'k6-results.json');
    writeFileSync(file, '');
    const aggregator = new Aggregator();
    const tail = new K6ResultsTail(file, aggregator);
    // As k6 writes it: the first second, then the rest with a line cut in the middle.
    appendFileSync(file, `${K6_LINES.slice(0, 6).join('\n')}\n${K6_LINES[6]!.slice(0, 30)}`);
    tail.poll(Math.floor(Date.parse('2017-05-09T14:34:46+02:00') / 1000));
    assert.equal(aggregator.totals.counters.get('http_requests{result:ok,status:200,load:k6}'), 1);
    assert.equal(
      aggregator.totals.counters.get('http_requests{result:error,status:503,load:k6}'),
      undefined,
      'its second is still open',
    );
    appendFileSync(file, `${K6_LINES[6]!.slice(30)}\n${K6_LINES.slice(7).join('\n')}\nnot json\n`);
    tail.poll(0, true);
    tail.close();
    aggregator.closeAll();
    const c = aggregator.totals.counters;
    assert.equal(c.get('http_requests{result:error,status:503,load:k6}'), 1);
    assert.equal(c.get('http_requests{result:failed,status:network,load:k6}'), 1);
    assert.equal(c.get('k6_rate{result:true,metric:checks}'), 1);
    assert.equal(c.get('k6_rate{result:false,metric:checks}'), 1);
    assert.deepEqual(tail.skipped, { lines: 1, first: 'not JSON' });
    const duration = aggregator.totals.histograms.get('http_duration{load:k6}');
    assert.equal(duration?.count, 1);
    const thresholds = parseThresholds({
      'http_duration{load:k6}': ['p(95)<500', 'max<400'],
      'http_requests{load:k6,result:ok}': ['rate>0.9'],
      'k6_rate{metric:checks,result:false}': ['rate<0.6'],
      'k6_trend{metric:open_live}': ['avg<150'],
    });
    const results = evaluateThresholds(thresholds, aggregator.totals);
    const verdicts = results.map((t) => `${t.metric} ${t.expression} ${t.ok ? 'ok' : 'failed'}`);
    assert.deepEqual(verdicts, [
      'http_duration{load:k6} p(95)<500 ok',
      'http_duration{load:k6} max<400 failed',
      'http_requests{load:k6,result:ok} rate>0.9 failed',
      'k6_rate{metric:checks,result:false} rate<0.6 ok',
      'k6_trend{metric:open_live} avg<150 ok',
    ]);
    assert.ok(
      Math.abs((results[0]!.observed ?? 0) - 459.865729) < 0.5,
      `p95 of the one sample: ${results[0]!.observed}`,
    );
  });
});

describe('--summary-export', () => {
  it("has k6's shape: root_group, and per metric the values of its type with thresholds by expression (true = failed)", async () => {
    const r = await runInline(`
devices: { count: 2 }
duration: 3s
http_load: [{ name: stats, url: /api/stats, connections: 1, rate: 10/s }]
thresholds:
  http_duration{load:stats}: ["p(95)<5000"]
  http_requests{result:ok}: ["count>1000000"]
`);
    const k6 = k6SummaryExport(r.summary);
    assert.deepEqual(Object.keys(k6).sort(), ['metrics', 'root_group']);
    assert.deepEqual(k6.root_group, {
      name: '',
      path: '',
      id: 'd41d8cd98f00b204e9800998ecf8427e',
      groups: {},
      checks: {},
    });
    const trend = k6.metrics['http_duration{load:stats}']!;
    assert.deepEqual(Object.keys(trend).sort(), [
      'avg',
      'max',
      'med',
      'min',
      'p(90)',
      'p(95)',
      'p(99)',
      'thresholds',
    ]);
    assert.deepEqual(trend.thresholds, { 'p(95)<5000': false });
    assert.deepEqual(k6.metrics['http_requests{result:ok}']?.thresholds, { 'count>1000000': true });
    const counter = k6.metrics['http_requests{result:ok,status:200,load:stats}']!;
    assert.deepEqual(Object.keys(counter).sort(), ['count', 'rate']);
    assert.deepEqual(Object.keys(k6.metrics.devices_target!).sort(), ['max', 'min', 'value']);
  });
});

describe('ivtfarm run with k6', () => {
  it('--out takes a results directory and k6-json=FILE; anything else is a usage error', () => {
    assert.deepEqual(parseOutFlags(['reports', 'k6-json=out.json']), { dir: 'reports', k6Json: 'out.json' });
    assert.throws(
      () => parseOutFlags(['influxdb=http://x']),
      /unknown output type "influxdb" \(known: k6-json\)/,
    );
    assert.throws(() => parseOutFlags(['k6-json=']), /needs a file/);
  });

  it('ivtfarm run writes both k6 files beside the results; a bad --out or a missing directory is a usage error (exit 2)', async () => {
    const scenario = join(dir, 'short.yaml');
    writeFileSync(scenario, 'devices: { count: 2 }\nduration: 3s\n');
    const out = join(dir, 'cli-reports');
    const points = join(dir, 'cli.k6.json');
    const exported = join(dir, 'cli.summary.json');
    const r = await runCli(
      ['run', scenario, '-q', '-o', out, '--out', `k6-json=${points}`, '--summary-export', exported],
      {
        timeoutMs: 120_000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /k6 json: /);
    const first = JSON.parse(readFileSync(points, 'utf8').split('\n')[0]!) as { type: string };
    assert.equal(first.type, 'Metric');
    const k6 = JSON.parse(readFileSync(exported, 'utf8')) as { metrics: Record<string, unknown> };
    assert.ok('login_duration' in k6.metrics, Object.keys(k6.metrics).join(', '));
    const bad = await runCli(['run', scenario, '-q', '--out', 'influxdb=http://127.0.0.1:1'], {
      timeoutMs: 60_000,
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown output type "influxdb"/);
    const nowhere = await runCli(
      ['run', scenario, '-q', '--summary-export', join(dir, 'no', 'such', 'dir', 's.json')],
      {
        timeoutMs: 60_000,
      },
    );
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.stderr, /--summary-export .*does not exist/);
  });

  it('a scenario naming a k6 script is refused before anything starts when no k6 is on the PATH (exit 3)', async () => {
    const script = join(dir, 'api.js');
    writeFileSync(script, 'export default function () {}\n');
    const scenario = join(dir, 'with-k6.yaml');
    writeFileSync(scenario, `devices: { count: 1 }\nduration: 2s\nk6: { script: ${script} }\n`);
    const empty = mkdtempSync(join(tmpdir(), 'ivtfarm-no-k6-'));
    const out = join(dir, 'reports');
    const r = await runCli(['run', scenario, '-q', '-o', out], { env: { PATH: empty }, timeoutMs: 60_000 });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /no `k6` on the PATH/);
    assert.match(r.stderr, /Nothing was started/);
  });
});
