import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { RunSummary } from '../src/core/summary-types.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/nginx-rtmp.js';
import { type Running, startCli } from './cli-process.js';

/**
 * The user's side of a run against a platform of one's own: the reference platform runs as a
 * separate process (as a user's platform would), the farm's devices log in to it, and the
 * scenario's `platform:` orders go through the platform's user API under a token login.
 */
const DEVICE_PASSWORD = 'user-api-run-device-pw';
const API_PASSWORD = 'user-api-run-operator-pw-7';
const env = { IVC_PASSWORD: DEVICE_PASSWORD, IVC_API_PASSWORD: API_PASSWORD };

const API_BLOCK = `
api:
  base_url: http://127.0.0.1:PORT
  auth:
    request: { method: POST, url: /api/login, body: { user: operator, password: "\${IVC_API_PASSWORD}" } }
    token: $.token
    expires_in: $.expires_in
  actions:
    open_live:
      url: /api/cameras/{login_code}/channels/{channel}/live
      body: { quality: "{quality}" }
      capture: { stream_id: $.stream_id }
    close_live: { method: DELETE, url: "/api/cameras/{login_code}/channels/{channel}/live" }
    start_record:
      url: /api/cameras/{login_code}/channels/{channel}/record
      body: { quality: "{quality}", seg_duration: 4 }
    stop_record: { method: DELETE, url: "/api/cameras/{login_code}/channels/{channel}/record" }
    list_live: { method: GET, url: /api/live }
`;

function scenario(port: number, body: string): string {
  return `name: user-api-run
seed: 3
target: ws://127.0.0.1:${port}/ivc
devices: { count: 60, login_code: "ua-{index:03}", password: { env: IVC_PASSWORD }, startup_jitter: 2s }
stages:
  - { duration: 3s, target: 60 }
  - { duration: 22s, target: 60 }
${API_BLOCK.replace('PORT', String(port))}
${body}
media: { ld: 256k, sd: 512k, hd: 2M, fhd: 4M }
`;
}

function run(
  file: string,
  out: string,
  extraEnv: Record<string, string> = {},
  args: string[] = [],
): Promise<{ code: number | null; output: string }> {
  const r = startCli(['run', file, '--out', out, ...args], { ...env, ...extraEnv });
  return r.exited.then((code) => ({ code, output: r.output() }));
}

/** A scenario file `name` with `text` in a fresh directory (its run output goes to `dir/out`). */
function writeScenario(name: string, text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-user-api-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return { dir, file };
}

/** Every file under `dir`, as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

describe('platform orders through a remote platform user API (api:, auth:)', () => {
  test('40 live views and 10 recordings under a token that expires mid-run: time to live, API latency per action, streams at their bitrate', async () => {
    // Tokens live 8 s: the 25 s run logs in again at least twice.
    const { ivc, port } = await startPlatformWithTtl(8000);
    const { dir, file } = writeScenario(
      'user-api.yaml',
      scenario(
        port,
        `platform:
  publish: { count: 40, quality: ld, after: 1s, duration: 14s, action: open_live, stop_action: close_live }
  record: { count: 10, quality: ld, after: 1s, action: start_record, stop_action: stop_record }
thresholds:
  time_to_live: ["p(95)<10000"]
  "api_requests{action:open_live,status:201}": ["count==40"]
`,
      ),
    );
    const { code, output } = await run(file, join(dir, 'out'));
    assert.equal(code, 0, output);
    const runDir = join(dir, 'out', readdirSync(join(dir, 'out'))[0]!);
    const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
    const h = s.metrics.histograms;
    const c = s.metrics.counters;

    assert.equal(s.platform?.publishes?.ok, 40);
    assert.equal(s.platform?.publishes?.stopped, 40, 'each live view closed after its 14 s');
    assert.equal(s.platform?.records?.ok, 10);
    assert.equal(s.platform?.records?.stopped, 10, 'recordings still on at the end were stopped');
    const ttl = h.time_to_live!;
    assert.equal(ttl.count, 40, 'every ordered stream went live');
    assert.ok(ttl.p50! > 0 && ttl.p95! >= ttl.p50! && ttl.p99! >= ttl.p95!);
    assert.equal(h['order_delivery_duration{method:RTMPPublish}']?.count, 40);
    assert.equal(h['order_delivery_duration{method:StartCloudRecord}']?.count, 10);
    // API latency per action, and the login repeated as its token expired.
    assert.equal(h['api_duration{action:open_live}']?.count, 40);
    assert.equal(h['api_duration{action:close_live}']?.count, 40);
    assert.equal(c['api_requests{action:start_record,status:201}'], 10);
    assert.ok(
      (c['api_requests{action:auth,status:200}'] ?? 0) >= 3,
      `logins: ${c['api_requests{action:auth,status:200}']}`,
    );
    assert.equal(
      c['api_requests{action:open_live,status:401}'] ?? 0,
      0,
      'refreshed before expiry, never refused',
    );
    // The streams went out at their bitrate and the platform accepted each.
    const got = s.platform!.received!.streams;
    assert.equal(got.received, 40);
    assert.equal(got.judged, 40);
    assert.equal(got.within_10pct, 40);
    assert.equal(got.judged_at, 'sender');
    for (const line of [
      'time_to_live',
      'api_duration{action:open_live}',
      'order_delivery_duration{method:RTMPPublish}',
    ])
      assert.match(output, new RegExp(`${line.replace(/[{}]/g, '\\$&')}\\s+p50 .+p95 .+p99 `));
    assert.match(output, /streams in\s+40\/40 live at the platform/);

    // The platform's own view: 40 views opened, 10 recordings that uploaded segments.
    const stats = (await (await fetch(`http://127.0.0.1:${port}/api/stats`)).json()) as {
      user_api: { live_opened: number; recordings_started: number; logins: number };
      record: { segments: number };
    };
    assert.equal(stats.user_api.live_opened, 40);
    assert.equal(stats.user_api.recordings_started, 10);
    assert.ok(stats.record.segments >= 10);
    // Neither the password nor a token is in the output or anywhere in the run directory.
    assert.ok(!output.includes(API_PASSWORD));
    assert.ok(!allText(runDir).includes(API_PASSWORD), 'no password in the run directory');
    ivc.child.kill();
  });

  test('a wrong API password refuses the run before it starts (exit 3), without printing the password', async () => {
    const { ivc, port } = await startPlatformWithTtl(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-user-api-'));
    const file = join(dir, 'user-api.yaml');
    writeFileSync(file, scenario(port, 'platform:\n  publish: { count: 1, action: open_live }\n'));
    const wrong = 'not-the-operator-password-99';
    const { code, output } = await run(file, join(dir, 'out'), { IVC_API_PASSWORD: wrong });
    assert.equal(code, 3, output);
    assert.match(
      output,
      /preflight: api\.auth: POST http:\/\/127\.0\.0\.1:\d+\/api\/login answered 401: wrong user or password/,
    );
    assert.match(output, /Nothing was started/);
    assert.ok(!output.includes(wrong), output);
    ivc.child.kill();
  });

  test('a placeholder typo, or an unknown action, names file, field and line', async () => {
    const { file } = writeScenario(
      'typo.yaml',
      scenario(1, 'platform:\n  publish: { count: 1, action: open_lve }\n').replace(
        'url: /api/cameras/{login_code}/channels/{channel}/live\n      body',
        'url: /api/cameras/{login_code}/channels/{chanel}/live\n      body',
      ),
    );
    const r = startCli(['validate', file], env);
    const code = await r.exited;
    assert.equal(code, 2, r.output());
    const lines = readFileSync(file, 'utf8').split('\n');
    const urlLine = lines.findIndex((l) => l.includes('{chanel}')) + 1;
    const actionLine = lines.findIndex((l) => l.includes('open_lve')) + 1;
    assert.match(
      r.output(),
      new RegExp(
        `typo\\.yaml:${urlLine}:\\d+\\s+api\\.actions\\.open_live\\.url\\s+unknown placeholder \\{chanel\\} \\(did you mean \\{channel\\}\\?\\)`,
      ),
    );
    assert.match(
      r.output(),
      new RegExp(
        `typo\\.yaml:${actionLine}:\\d+\\s+platform\\.publish\\.action\\s+no api action named open_lve \\(did you mean open_live\\?\\)`,
      ),
    );
  });
});

describe('http_load through an api: action (autocannon beside the devices)', () => {
  test('sends the action with the token, refreshed as it expires: every request answered 200, none refused', async () => {
    // Tokens live 4 s: the 25 s load must carry several of them.
    const { ivc, port } = await startPlatformWithTtl(4000);
    const { dir, file } = writeScenario(
      'http-action.yaml',
      scenario(port, 'http_load:\n  - { name: live, action: list_live, connections: 4, rate: 40/s }\n'),
    );
    const { code, output } = await run(file, join(dir, 'out'));
    assert.equal(code, 0, output);
    const runDir = join(dir, 'out', readdirSync(join(dir, 'out'))[0]!);
    const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
    const requests = Object.entries(s.metrics.counters).filter(
      ([k]) => k.startsWith('http_requests{') && k.includes('load:live'),
    );
    const ok = requests.filter(([k]) => k.includes('status:200')).reduce((n, [, v]) => n + v, 0);
    const other = requests.filter(([k]) => !k.includes('status:200'));
    assert.ok(ok >= 400, `requests answered 200: ${ok}`);
    assert.deepEqual(other, [], 'no request refused (401) or failed');
    assert.ok(
      (s.metrics.counters['api_requests{action:auth,status:200}'] ?? 0) >= 4,
      `logins: ${s.metrics.counters['api_requests{action:auth,status:200}']}`,
    );
    assert.ok(!allText(runDir).includes(API_PASSWORD), 'no password in the run directory');
    ivc.child.kill();
  });

  test('an action with device placeholders cannot be an HTTP load: a located error', async () => {
    const { file } = writeScenario(
      'http-open.yaml',
      scenario(1, 'http_load:\n  - { name: open, action: open_live, rate: 1/s }\n'),
    );
    const r = startCli(['validate', file], env);
    assert.equal(await r.exited, 2, r.output());
    assert.match(
      r.output(),
      /http-open\.yaml:\d+:\d+\s+http_load\[0\]\.action\s+action "open_live" uses \{login_code\}, \{channel\}/,
    );
  });
});

/** `ivtfarm ivc` with its RTMP ingest and a user API whose tokens live `ttlMs`, once it listens. */
async function startPlatformWithTtl(
  ttlMs: number,
  extra: string[] = [],
): Promise<{ ivc: Running; port: number }> {
  const port = await freePort();
  const rtmpPort = await freePort();
  const ivc = startCli(
    [
      'ivc',
      '--port',
      String(port),
      '--rtmp-port',
      String(rtmpPort),
      '--api-user',
      'operator',
      '--api-token-ttl-ms',
      String(ttlMs),
      ...extra,
    ],
    env,
  );
  await eventually('the platform to listen', () => /user API/.test(ivc.output()), 15_000, 100);
  return { ivc, port };
}

describe('capacity streams mode against a separately started platform (through its user API)', () => {
  test('live views opened through the API climb until the platform refuses streams; capacity within one step (devices in 2 agent processes)', async () => {
    const { ivc, port } = await startPlatformWithTtl(60_000, ['--max-streams', '12']);
    const { dir, file } = writeScenario(
      'capacity.yaml',
      scenario(
        port,
        `platform:
  publish: { quality: ld, action: open_live, stop_action: close_live }
capacity:
  mode: streams
  start: 5
  step: 5
  max: 25
  ramp: 2s
  hold: 4s
  sustain: 2s
  # The platform's refusals are what this test is about.
  service_levels:
    "publishes{result:failed}": "rate<0.001"
`,
      )
        .replace(/stages:\n(?: {2}- .*\n)+/, '')
        .replace('count: 60', 'count: 30'),
    );
    // The devices run in two local agents: their logins and stream marks reach the controller,
    // which picks the channels it opens live views on.
    const { output } = await run(file, join(dir, 'out'), {}, ['--agents', '2']);
    const runDir = join(dir, 'out', readdirSync(join(dir, 'out'))[0]!);
    const s = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
    assert.deepEqual(
      Object.keys(s.metrics.gauges).filter((k) => k.startsWith('cpu_percent{worker:agent-')),
      ['cpu_percent{worker:agent-0}', 'cpu_percent{worker:agent-1}'],
      'two agent processes',
    );
    const c = s.capacity;
    assert.ok(c, output);
    assert.equal(c.unit, 'streams');
    // 5 and 10 hold; at 15 the platform refuses past 12 live streams.
    assert.equal(c.capacity, 10, output);
    assert.equal(c.broke_at, 15);
    assert.deepEqual(
      c.steps.map((step) => step.held),
      [true, true, false],
    );
    assert.ok((s.metrics.histograms['api_duration{action:open_live}']?.count ?? 0) >= 15);
    assert.match(output, /capacity/i);
    ivc.child.kill();
  });
});
