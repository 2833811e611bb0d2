// `http_load:` — autocannon beside the devices: its answers reach the run's metrics, thresholds
// on them gate the exit code, the rate follows stages, and `capacity: { mode: api_rate }` names
// the request rate at which a real (loopback) API breaks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runScenario } from '../src/farm/coordinator.js';
import { ProgressDisplay } from '../src/farm/progress.js';
import { capture, fill } from '../src/http-load/capture.js';
import { startHttpLoad } from '../src/http-load/engine.js';
import { platformOrigin } from '../src/http-load/source.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { writeHtmlReport } from '../src/report/html.js';
import { parseScenario } from '../src/scenario/load.js';
import { maskSecrets } from '../src/scenario/secrets.js';
import { freePort } from '../support/free-port.js';
import { runInline, scenarioFrom } from './farm-support.js';
import { handles, handlesSettle } from './handles-support.js';

/** A loopback API that counts requests per wall-clock second and refuses (503) past `limit` a second. */
class CountingApi {
  readonly perSecond = new Map<number, number>();
  /** When each request arrived (epoch ms). */
  readonly times: number[] = [];
  private server: Server | null = null;
  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      this.times.push(Date.now());
      const s = Math.floor(Date.now() / 1000);
      const n = (this.perSecond.get(s) ?? 0) + 1;
      this.perSecond.set(s, n);
      req.resume();
      res.writeHead(n > this.limit ? 503 : 200, { 'content-type': 'application/json' });
      res.end(`{"path":${JSON.stringify(req.url)}}`);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  total(): number {
    let n = 0;
    for (const v of this.perSecond.values()) n += v;
    return n;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

function counters(summaryPath: string): Record<string, number> {
  return (JSON.parse(readFileSync(summaryPath, 'utf8')) as { metrics: { counters: Record<string, number> } })
    .metrics.counters;
}

describe('http_load in a run', () => {
  it('answers of the platform API reach the summary by status, the report and /metrics, and a latency threshold passes (exit 0)', async () => {
    const port = await freePort();
    let scrape: Promise<string> | null = null;
    const r = await runInline(
      `
devices: { count: 6 }
duration: 5s
http_load:
  - name: stats
    url: /api/stats
    connections: 4
    rate: 40/s
thresholds:
  http_duration{load:stats}: ["p(99)<5000"]
  http_requests{load:stats,result:ok}: ["rate>0.99"]
`,
      {
        metricsPort: port,
        // Scrapes /metrics once the run has HTTP answers, as Prometheus would while it runs.
        observers: [
          {
            second: ({ totals }) => {
              if (scrape || ![...totals.counters.keys()].some((k) => k.startsWith('http_requests')))
                return undefined;
              scrape = fetch(`http://127.0.0.1:${port}/metrics`).then((res) => res.text());
              return undefined;
            },
          },
        ],
      },
    );
    const scraped = await (scrape ?? Promise.resolve(''));
    assert.match(scraped, /ivtfarm_http_requests_total\{[^}]*status="200"[^}]*load="stats"[^}]*\} \d+/);
    assert.match(scraped, /ivtfarm_http_duration_seconds\{load="stats",quantile="0.99"\}/);
    assert.equal(r.exitCode, 0, r.summary.run.reasons?.join('; '));
    const ok = counters(r.summaryPath)['http_requests{result:ok,status:200,load:stats}'] ?? 0;
    assert.ok(ok >= 40, `at least a second of answers counted, got ${ok}`);
    assert.ok((r.summary.metrics.histograms['http_duration{load:stats}']?.count ?? 0) >= 40);
    const html = readFileSync(await writeHtmlReport(r.dir), 'utf8');
    assert.match(html, /HTTP load: requests by status/);
  });

  it('a threshold on the API error rate fails the run (exit 99) and names the threshold', async () => {
    const r = await runInline(`
devices: { count: 4 }
duration: 4s
http_load:
  - name: missing
    url: /api/no-such-thing
    connections: 2
    rate: 20/s
thresholds:
  http_requests{result:error}: ["rate<0.01"]
`);
    assert.equal(r.exitCode, 99);
    assert.ok((counters(r.summaryPath)['http_requests{result:error,status:404,load:missing}'] ?? 0) > 0);
    assert.match(
      r.summary.run.reasons?.join('\n') ?? '',
      /threshold http_requests\{result:error\} rate<0\.01 failed/,
    );
  });
});

describe('http_load in the run lifecycle', () => {
  it('a run that fails mid-load stops the HTTP load thread too: nothing left open', async () => {
    const { scenario, dir } = scenarioFrom(
      `
devices: { count: 4 }
duration: 30s
http_load: [{ name: stats, url: /api/stats, connections: 4, rate: 50/s }]
`,
      'http-lifecycle',
    );
    const before = handles();
    let answered = 0;
    await assert.rejects(
      runScenario(scenario, {
        progress: new ProgressDisplay(process.stderr, 60_000, false),
        outputDir: join(dir, 'reports'),
        observers: [
          {
            second: ({ sample }) => {
              answered += Object.entries(sample.counters)
                .filter(([k]) => k.startsWith('http_requests'))
                .reduce((n, [, v]) => n + v, 0);
              if (answered >= 50) throw new Error('observer failed mid-load');
              return undefined;
            },
          },
        ],
      }),
      /observer failed mid-load/,
    );
    assert.deepEqual(await handlesSettle(before, 10_000), [], 'no socket, timer or worker thread left');
  });
});

describe('the request rate', () => {
  const api = new CountingApi();
  let origin = '';
  before(async () => {
    origin = await api.listen();
  });
  after(() => api.close());

  it('follows the stages on the same connections (a paused rate sends nothing)', async () => {
    const registry = new MetricsRegistry({ source: 'test' });
    const startMs = Date.now();
    const load = startHttpLoad(
      {
        name: 'steps',
        origin,
        requests: [{ method: 'GET', path: '/a', headers: {}, body: null, capture: {} }],
        connections: 4,
        rate: 10,
        stages: [
          { durationMs: 3000, target: 10 },
          { durationMs: 0, target: 0 },
          { durationMs: 3000, target: 0 },
          { durationMs: 0, target: 80 },
          { durationMs: 3000, target: 80 },
        ],
        durationMs: 9000,
        timeoutMs: 5000,
      },
      registry,
    );
    await load.ended;
    // Requests between two times after the start (ms). Each connection sends its share of a
    // second at the start of its own second, so a stage's edges get a burst of the rate before:
    // the windows keep clear of them.
    const between = (from: number, to: number) =>
      api.times.filter((t) => t >= startMs + from && t < startMs + to).length;
    const first = between(500, 2500);
    const paused = between(3800, 5800);
    const fast = between(6800, 8800);
    assert.ok(first > 0 && first <= 30, `about 10/s in the first stage, got ${first} in 2 s`);
    assert.equal(paused, 0, 'nothing sent while the rate is 0');
    assert.ok(fast >= 3 * first, `80/s after the step (${fast} in 2 s) is well above 10/s (${first})`);
    const delta = registry.takeDelta();
    const answered = Object.entries(delta.counters)
      .filter(([k]) => k.startsWith('http_requests'))
      .reduce((n, [, v]) => n + v, 0);
    assert.equal(answered, api.total(), 'every answer the server gave was counted once');
  });
});

describe('a request sequence', () => {
  it('loops login → authorised request on each connection, the token captured from the answer', async () => {
    const issued = new Set<string>();
    const seen = { login: 0, ok: 0, refused: 0 };
    const server = createServer((req, res) => {
      req.resume();
      if (req.url === '/login' && req.method === 'POST') {
        seen.login++;
        const token = `t-${seen.login}`;
        issued.add(token);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: { token } }));
        return;
      }
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const ok = req.url === '/items?mine=1' && token !== undefined && issued.has(token);
      if (ok) seen.ok++;
      else seen.refused++;
      res.writeHead(ok ? 200 : 401);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { scenario, problems } = parseScenario(
        `
devices: { count: 1 }
duration: 3s
http_load:
  - name: seq
    url: http://127.0.0.1:${(server.address() as AddressInfo).port}
    connections: 2
    rate: 40/s
    requests:
      - { path: /login, method: POST, body: '{"user":"u"}', capture: { token: $.data.token } }
      - { path: '/items?mine=1', headers: { Authorization: 'Bearer {token}' } }
`,
        {},
      );
      assert.ok(scenario, JSON.stringify(problems));
      const plan = scenario.httpLoad[0]!;
      assert.ok(plan.send.kind === 'requests');
      const registry = new MetricsRegistry({ source: 'test' });
      const load = startHttpLoad(
        { ...plan, origin: plan.origin!, requests: plan.send.requests, durationMs: 3000 },
        registry,
      );
      await load.ended;
    } finally {
      server.closeAllConnections();
      server.close();
    }
    assert.ok(seen.login >= 10, `logins: ${seen.login}`);
    assert.equal(seen.refused, 0, 'every authorised request carried a token the server issued');
    assert.ok(Math.abs(seen.ok - seen.login) <= 2, `one request per login: ${seen.ok} vs ${seen.login}`);
  });
});

describe('where an http_load block sends', () => {
  it("a path goes to the target platform's HTTP origin: the embedded one's, or the ws(s) target's host as http(s)", () => {
    assert.equal(
      platformOrigin({ target: { kind: 'embedded' } }, 'http://127.0.0.1:4100'),
      'http://127.0.0.1:4100',
    );
    const remote = (url: string) => ({
      target: { kind: 'remote' as const, url, urls: [url], ca: null, insecure: false },
    });
    assert.equal(platformOrigin(remote('ws://127.0.0.1:8080/ivc'), null), 'http://127.0.0.1:8080');
    assert.equal(platformOrigin(remote('wss://ivc.example:8443/ivc'), null), 'https://ivc.example:8443');
  });
});

describe('captured values', () => {
  it('follow a JSON path through objects and arrays; anything else captures nothing', () => {
    const body = JSON.stringify({ items: [{ id: 7, name: 'cam' }], token: 'abc', nested: { n: null } });
    assert.equal(capture(body, '$.items[0].id'), '7');
    assert.equal(capture(body, '$.token'), 'abc');
    assert.equal(capture(body, '$.items'), null, 'an array is no value');
    assert.equal(capture(body, '$.nested.n'), null);
    assert.equal(capture(body, '$.missing.deeper'), null);
    assert.equal(capture('<html>', '$.token'), null);
    assert.equal(
      fill('Bearer {token} {other} {"json":1}', { token: 'abc' }),
      'Bearer abc {other} {"json":1}',
    );
  });
});

describe('capacity: { mode: api_rate }', () => {
  // Refuses (503) past 30 requests in a wall-clock second: 20/s holds, 60/s cannot.
  const api = new CountingApi(30);
  let origin = '';
  before(async () => {
    origin = await api.listen();
  });
  after(() => api.close());

  it('steps the request rate until the API refuses, and names the last rate that held', async () => {
    // online_ratio 0.2: on a machine busy with other work the rate achieved may fall well short
    // of the step; what this test judges is the API's limit, not the machine's speed.
    const r = await runInline(`
devices: { count: 4 }
http_load:
  - name: api
    url: ${origin}/orders
    connections: 8
capacity:
  mode: api_rate
  start: 20
  step: 20
  max: 200
  ramp: 1s
  hold: 3s
  sustain: 2s
  online_ratio: 0.2
`);
    const cap = r.summary.capacity;
    assert.ok(cap, 'a capacity section');
    const steps = JSON.stringify(cap.steps.map((s) => [s.level, s.held, s.broken, s.observed]));
    const refused = 'http_requests{result:error} rate<0.01';
    assert.equal(cap.unit, 'requests/s');
    assert.equal(r.summary.run.stop_reason, 'limit_found', steps);
    assert.deepEqual(
      cap.steps.map((s) => s.level),
      Array.from({ length: cap.steps.length }, (_, k) => 20 + 20 * k),
      'the staircase, in order',
    );
    // 20/s is under the API's limit of 30; 160/s cannot hold (0.2 × 160 achieved is over 30).
    assert.ok(cap.capacity !== null && cap.capacity >= 20 && cap.capacity < 160, steps);
    assert.equal(cap.broke_at, cap.capacity + 20, steps);
    for (const step of cap.steps.filter((s) => s.held))
      assert.equal(step.observed[refused], 0, `no refusal in a step that held: ${steps}`);
    const broken = cap.steps.find((s) => s.level === cap.broke_at)!;
    assert.ok(
      (broken.observed[refused] ?? 0) >= 0.01 || cap.first_broken?.startsWith('http_rate'),
      `the step broke on the API's refusals or a rate not achieved: ${steps}`,
    );
  });
});

describe('http_load in a scenario file', () => {
  const problems = (yaml: string) => parseScenario(yaml, {}).problems.map((p) => `${p.path} ${p.message}`);

  it('an action needs an api: block, named on its line', () => {
    const list = parseScenario('devices: { count: 1 }\nhttp_load:\n  - action: list_live\n', {}).problems;
    const p = list.find((x) => x.path === 'http_load[0].action');
    assert.ok(p, JSON.stringify(list));
    assert.match(p.message, /no `api:` block/);
    assert.equal(p.line, 3);
  });

  it('api_rate needs an http_load entry without a rate of its own', () => {
    const list = problems(`
devices: { count: 1 }
http_load: [{ url: /api/stats, rate: 10/s }]
capacity: { mode: api_rate, start: 10, step: 10 }
`);
    assert.ok(
      list.some((l) => l.startsWith('capacity.mode') && l.includes('api_rate')),
      list.join('\n'),
    );
  });

  it('credentials in headers and login bodies are masked wherever the scenario is shown', () => {
    const { scenario } = parseScenario(
      `
devices: { count: 1 }
http_load:
  - url: http://127.0.0.1:1/
    requests:
      - { path: /login, method: POST, body: '{"user":"u","password":"hunter2"}' }
      - { path: /live, headers: { Authorization: Bearer abc123, Accept: application/json } }
`,
      {},
    );
    assert.ok(scenario);
    const shown = JSON.stringify(maskSecrets(scenario));
    assert.doesNotMatch(shown, /hunter2|abc123/);
    assert.match(shown, /application\/json/);
    const live = scenario.httpLoad[0]!.send;
    assert.equal(
      live.kind === 'requests' && live.requests[1]!.headers.Authorization,
      'Bearer abc123',
      'the run still sends it',
    );
  });

  it('a request with a body beside a sequence is refused', () => {
    const list = problems(`
devices: { count: 1 }
http_load:
  - url: http://127.0.0.1:1/
    body: '{}'
    requests: [{ path: /a }]
`);
    assert.ok(
      list.some((l) => l.startsWith('http_load[0].body')),
      list.join('\n'),
    );
  });
});
