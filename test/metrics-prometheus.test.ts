import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { Aggregator } from '../src/metrics/aggregator.js';
import { renderPrometheus } from '../src/metrics/prometheus.js';
import { startMetricsServer } from '../src/metrics/prometheus-server.js';
import { MetricsRegistry } from '../src/metrics/registry.js';

const T0 = 1_700_000_000;

function filled(): Aggregator {
  let ms = T0 * 1000 + 5;
  const reg = new MetricsRegistry({ source: 'w', now: () => ms });
  const agg = new Aggregator();
  reg.counter('logins', { result: 'ok' }).add(9);
  reg.counter('logins', { result: 'refused', reason: 'http_401' }).add(1);
  reg.gauge('devices', { state: 'online' }).set(9);
  reg.gauge('devices_target').set(10);
  const rtt = reg.histogram('keepalive_rtt');
  for (let i = 1; i <= 100; i++) rtt.record(i * 10); // 10 ms .. 1 s
  reg.histogram('bitrate_achieved_ratio', { quality: 'sd' }).record(0.98);
  ms += 1000;
  agg.add(reg.takeDelta());
  agg.closeAll();
  return agg;
}

// Text format 0.0.4: comments, or `name{label="value",...} number`.
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$/;
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)$/;

test('Prometheus exposition: every line is valid text format, counters _total, summaries in seconds', () => {
  const text = renderPrometheus(filled());
  assert.ok(text.endsWith('\n'));
  for (const line of text.trimEnd().split('\n')) {
    assert.ok(COMMENT.test(line) || SAMPLE.test(line), `bad line: ${line}`);
  }
  assert.match(text, /^# TYPE ivtfarm_logins_total counter$/m);
  assert.match(text, /^ivtfarm_logins_total\{result="ok"\} 9$/m);
  assert.match(text, /^ivtfarm_logins_total\{result="refused",reason="http_401"\} 1$/m);
  assert.match(text, /^# TYPE ivtfarm_devices gauge$/m);
  assert.match(text, /^ivtfarm_devices\{state="online"\} 9$/m);
  assert.match(text, /^ivtfarm_devices_target 10$/m);
  assert.match(text, /^# TYPE ivtfarm_keepalive_rtt_seconds summary$/m);
  assert.match(text, /^ivtfarm_keepalive_rtt_seconds\{quantile="0.5"\} 0\.5\d*$/m);
  assert.match(text, /^ivtfarm_keepalive_rtt_seconds\{quantile="0.99"\} 0\.99\d*$/m);
  assert.match(text, /^ivtfarm_keepalive_rtt_seconds_sum 50\.5$/m);
  assert.match(text, /^ivtfarm_keepalive_rtt_seconds_count 100$/m);
  assert.match(text, /^ivtfarm_bitrate_achieved_ratio\{quality="sd",quantile="0.5"\} 0\.98$/m);
  // Each family is declared once, before its samples.
  const types = text.match(/^# TYPE (\S+)/gm)!;
  assert.equal(new Set(types).size, types.length);
});

test('/metrics endpoint serves the exposition over loopback', async () => {
  const agg = filled();
  const server = await startMetricsServer({ port: 0, render: () => renderPrometheus(agg) });
  try {
    const get = (path: string) =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port: server.port, path }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
          );
        })
          .on('error', reject)
          .end();
      });
    const ok = await get('/metrics');
    assert.equal(ok.status, 200);
    assert.match(ok.type, /^text\/plain; version=0\.0\.4/);
    assert.match(ok.body, /^ivtfarm_logins_total\{result="ok"\} 9$/m);
    assert.equal((await get('/')).status, 404);
  } finally {
    await server.close();
  }
});
