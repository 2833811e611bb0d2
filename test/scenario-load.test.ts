import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  formatProblem,
  loadScenario,
  maskSecrets,
  parseScenario,
  ScenarioError,
  type ScenarioProblem,
  validateScenarioFile,
} from '../src/scenario/index.js';
import { thresholdsOf } from '../src/scenario/thresholds.js';

const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-scenario-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function write(text: string, ext = 'yaml'): string {
  const path = join(dir, `s${n++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

function problems(text: string, env: Record<string, string> = {}): ScenarioProblem[] {
  const result = validateScenarioFile(write(text), { env });
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.errors;
}

function only(list: ScenarioProblem[], path: string): ScenarioProblem {
  const found = list.filter((p) => p.path === path);
  assert.equal(found.length, 1, `one problem at ${path}, got:\n${list.map(formatProblem).join('\n')}`);
  return found[0]!;
}

describe('example scenarios', () => {
  const examples = readdirSync('scenarios').filter((f) => /\.(ya?ml|json)$/.test(f));

  it('ships the five documented examples', () => {
    for (const name of ['smoke', 'connect-storm', 'reconnect-storm', 'alarm-storm', 'soak']) {
      assert.ok(examples.includes(`${name}.yaml`), `${name}.yaml is missing`);
    }
  });

  for (const file of examples) {
    it(`${file} validates`, () => {
      const result = validateScenarioFile(join('scenarios', file), {
        env: { IVT_PASSWORD: 'example-secret', IVC_API_PASSWORD: 'example-api-secret' },
      });
      assert.deepEqual(result.errors.map(formatProblem), []);
      assert.equal(result.ok, true);
    });
  }

  it('smoke is about 20 s of 50 mixed cameras and 4-channel NVRs with publishes and one recording', () => {
    const s = loadScenario('scenarios/smoke.yaml', { env: {} });
    assert.equal(s.devices.count, 50);
    assert.ok(s.durationMs >= 15_000 && s.durationMs <= 30_000);
    assert.deepEqual(
      new Set(s.devices.mix.map((m) => `${m.kind}/${m.channels}`)),
      new Set(['camera/1', 'nvr/4']),
    );
    assert.equal(s.target.kind, 'embedded');
    assert.ok((s.platform?.publish?.count ?? 0) > 0);
    assert.equal(s.platform?.record?.count, 1);
    assert.ok(Object.keys(s.thresholds).length > 0);
  });

  it('connect-storm ramps 2,000 four-channel devices over 30 s', () => {
    const s = loadScenario('scenarios/connect-storm.yaml', { env: {} });
    assert.equal(s.devices.count, 2000);
    assert.ok(s.devices.mix.every((m) => m.channels === 4));
    assert.deepEqual(s.load.stages[0], { durationMs: 30_000, target: 2000 });
  });
});

describe('problems are located and explained', () => {
  it('a typo in a top-level key names line, column, field and the closest known field', () => {
    const list = problems('name: x\ndevces:\n  count: 5\n');
    const typo = only(list, 'devces');
    assert.equal(typo.line, 2);
    assert.equal(typo.column, 1);
    assert.match(typo.message, /unknown field `devces`, did you mean `devices`\?/);
    // `devices` itself is then missing: reported too, not hidden behind the first problem.
    assert.match(only(list, 'devices').message, /missing required field/);
  });

  it('a typo in a nested key points at that key', () => {
    const p = only(problems('devices:\n  count: 5\n  loginCode: "a-{index}"\n'), 'devices.loginCode');
    assert.deepEqual([p.line, p.column], [3, 3]);
    assert.match(p.message, /did you mean `login_code`/);
  });

  it('a wrong type names the field path and the expected type', () => {
    const path = write('name: x\ndevices:\n  count: "many"\n');
    const result = validateScenarioFile(path);
    const p = only(result.errors, 'devices.count');
    assert.deepEqual([p.line, p.column], [3, 10]);
    assert.match(p.message, /must be an integer, not a string/);
    assert.match(
      formatProblem(p),
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:10  devices\\.count  `),
    );
    assert.match(p.expected ?? '', /integer from 1/);
  });

  it('a bad duration says what a duration looks like', () => {
    const list = problems(
      'devices: { count: 5 }\nstages:\n  - { duration: 30s, target: 5 }\n  - { duration: 10 minutes, target: 0 }\n',
    );
    const p = only(list, 'stages[1].duration');
    assert.equal(p.line, 4);
    assert.match(p.expected ?? '', /duration such as 500ms, 30s, 2m or 1h30m/);
  });

  it('bad rates, bitrates and enum values are each reported, all at once', () => {
    const list = problems(
      [
        'devices:',
        '  count: 5',
        '  mix: [{ kind: dvr }]',
        'media: { sd: 512 kbit }',
        'alarms: { per_channel: often }',
      ].join('\n'),
    );
    assert.match(only(list, 'devices.mix[0].kind').expected ?? '', /one of camera, nvr/);
    assert.match(only(list, 'media.sd').expected ?? '', /bitrate/);
    assert.match(only(list, 'alarms.per_channel').expected ?? '', /rate such as 100\/s/);
    assert.deepEqual(
      list.map((p) => p.line),
      [3, 4, 5],
    );
  });

  it('YAML syntax errors carry their line', () => {
    const list = problems('devices:\n  count: 5\n  mix: [ { kind: camera }\nstages: []\n');
    assert.ok(list.length >= 1);
    assert.equal(list[0]!.path, '(syntax)');
    assert.ok(list[0]!.line >= 3);
  });

  it('duplicate keys are an error, not a silent override', () => {
    const p = problems('devices:\n  count: 5\n  count: 6\n')[0]!;
    assert.equal(p.line, 3);
    assert.match(p.message, /unique/);
  });

  it('JSON files get line numbers too', () => {
    const path = write('{\n  "devices": {\n    "count": 5,\n    "startup_jitter": "soon"\n  }\n}\n', 'json');
    const result = validateScenarioFile(path);
    const p = only(result.errors, 'devices.startup_jitter');
    assert.deepEqual([p.line, p.column], [4, 23]);
  });

  it('cross-field rules are located too', () => {
    const list = problems(
      [
        'devices:',
        '  count: 10',
        '  login_code: fixed-name',
        '  mix: [{ kind: camera, channels: 2 }]',
        '  source_addresses: [127.0.0.2, 10.1.2.3, 127.0.0.1/40]',
        'stages:',
        '  - { duration: 10s, target: 20 }',
        'events:',
        '  - { at: 5s, disconnect: { fraction: 0.5 }, reboot: { fraction: 0.1 } }',
        '  - { at: 1m, disconnect: { fraction: 0.5 } }',
      ].join('\n'),
    );
    assert.match(only(list, 'devices.login_code').message, /must contain \{index\}/);
    assert.match(only(list, 'devices.mix[0].channels').message, /camera has exactly one channel/);
    assert.match(only(list, 'devices.source_addresses[1]').message, /127\.0\.0\.0\/8/);
    assert.match(only(list, 'devices.source_addresses[2]').message, /prefix/);
    assert.deepEqual([only(list, 'stages[0].target').line, only(list, 'stages[0].target').column], [7, 30]);
    assert.match(only(list, 'events[0]').message, /several actions/);
    assert.match(only(list, 'events[1].at').message, /after the end of the run \(10s\)/);
  });

  it('a platform plan for a remote target needs its api, and a remote target needs a password', () => {
    const list = problems(
      'target: ws://127.0.0.1:9/ivc\ndevices: { count: 1 }\nplatform: { publish: { fraction: 1 } }\n',
    );
    assert.match(only(list, 'platform').message, /asked through its API: `api` is missing/);
    assert.match(only(list, 'devices.password').message, /missing required field/);
  });

  it('remote targets: ca is resolved next to the scenario and must exist; TLS options need wss', () => {
    writeFileSync(join(dir, 'ca.pem'), 'not really a certificate');
    const ok = loadScenario(
      write('target: { url: "wss://127.0.0.1:9443/ivc", ca: ca.pem }\ndevices: { count: 1, password: x }\n'),
      { env: {} },
    );
    assert.deepEqual(ok.target, {
      kind: 'remote',
      url: 'wss://127.0.0.1:9443/ivc',
      urls: ['wss://127.0.0.1:9443/ivc'],
      ca: join(dir, 'ca.pem'),
      insecure: false,
    });
    assert.equal(ok.platform, null);
    const plain = problems(
      'target: { url: "ws://127.0.0.1:9/ivc", ca: ca.pem, insecure: true }\ndevices: { count: 1, password: x }\n',
    );
    assert.match(only(plain, 'target.ca').message, /only applies to a wss:\/\/ target/);
    assert.match(only(plain, 'target.insecure').message, /only applies to a wss:\/\/ target/);
    const missing = problems(
      'target: { url: "wss://127.0.0.1:9/ivc", ca: nope.pem }\ndevices: { count: 1, password: x }\n',
    );
    assert.match(only(missing, 'target.ca').message, /file not found/);
  });

  it('a target may list several URLs; a bad or repeated one is named with its file, index and line', () => {
    const both = loadScenario(
      write(
        'target:\n  - ws://127.0.0.1:9001/ivc\n  - ws://127.0.0.1:9002/ivc\ndevices: { count: 1, password: x }\n',
      ),
      { env: {} },
    );
    assert.deepEqual(both.target, {
      kind: 'remote',
      url: 'ws://127.0.0.1:9001/ivc',
      urls: ['ws://127.0.0.1:9001/ivc', 'ws://127.0.0.1:9002/ivc'],
      ca: null,
      insecure: false,
    });
    const file = write(
      'target:\n  url:\n    - ws://127.0.0.1:9001/ivc\n    - ws://127.0.0.1:9001/ivc\n    - http://127.0.0.1:9003/ivc\ndevices: { count: 1, password: x }\n',
    );
    const result = validateScenarioFile(file, { env: {} });
    assert.equal(result.ok, false);
    const text = result.errors.map(formatProblem).join('\n');
    // Each mistake with its file, line and field path (the element of the list).
    assert.match(text, new RegExp(`${file}:5:\\d+ +target\\.url\\[2\\] .*ws:// or wss:// URL`));
    assert.equal(result.errors.length, 1, text);
    const twice = validateScenarioFile(
      write(
        'target: [ws://127.0.0.1:9001/ivc, ws://127.0.0.1:9001/ivc]\ndevices: { count: 1, password: x }\n',
      ),
      { env: {} },
    );
    assert.match(
      twice.ok ? '' : twice.errors.map(formatProblem).join('\n'),
      /:1:\d+ +target\[1\] .*listed twice/,
    );
  });

  it('a constant arrival rate needs a duration', () => {
    const p = only(problems('devices: { count: 5 }\narrival: { rate: 2/s }\n'), 'duration');
    assert.match(p.message, /missing required field/);
  });

  it('stages and arrival together are refused', () => {
    const p = only(
      problems('devices: { count: 5 }\nstages: [{ duration: 1s, target: 1 }]\narrival: { rate: 1/s }\n'),
      'arrival',
    );
    assert.equal(p.line, 3);
  });

  it('loadScenario throws a ScenarioError whose message lists every problem', () => {
    const path = write('devices:\n  count: 0\nseed: -1\n');
    assert.throws(
      () => loadScenario(path),
      (err: unknown) => {
        assert.ok(err instanceof ScenarioError);
        assert.equal(err.problems.length, 2);
        assert.match(err.message, /2 problems/);
        assert.match(err.message, /:2:10 {2}devices\.count {2}must be >= 1/);
        assert.match(err.message, /:3:7 {2}seed {2}must be >= 0/);
        return true;
      },
    );
  });

  it('an unreadable file is one problem, not an exception', () => {
    const result = validateScenarioFile(join(dir, 'nope.yaml'));
    assert.equal(result.ok, false);
    assert.match(result.errors[0]!.message, /ENOENT/);
  });
});

describe('defaults and units', () => {
  it('a minimal file gets every default', () => {
    const { scenario: s } = parseScenario('devices: { count: 3 }\n', { env: {} });
    assert.ok(s);
    assert.equal(s.target.kind, 'embedded');
    assert.equal(s.devices.loginCode, 'sim-{index:05}');
    assert.deepEqual(s.load, {
      model: 'closed',
      stages: [
        { durationMs: 0, target: 3 },
        { durationMs: 60_000, target: 3 },
      ],
    });
    assert.equal(s.durationMs, 60_000);
    assert.deepEqual(s.media, { ld: 256_000, sd: 512_000, hd: 2_000_000, fhd: 4_000_000 });
    assert.equal(s.devices.mix.length, 1);
    assert.equal(s.devices.mix[0]!.kind, 'camera');
    assert.ok(s.workers >= 1);
    assert.deepEqual(s.platform, {
      publish: null,
      record: null,
      events: [],
      refuseLoginsAfter: null,
      refuseStreamsAfter: null,
      strict: false,
    });
    assert.equal(s.capacity, null);
    assert.equal(s.devices.push, null);
    assert.equal(s.onWorkerCrash, 'continue');
  });

  it('converts durations to ms, rates to per second, bitrates to bit/s and sizes to bytes', () => {
    const { scenario: s, problems: list } = parseScenario(
      [
        'duration: 1h30m',
        'devices: { count: 10, startup_jitter: 1.5s }',
        'arrival: { rate: 100/s, stages: [{ duration: 2m, target: 1/15m }] }',
        'media: { ld: 300k, fhd: 5000000 }',
        'platform: { record: { seg_max_size: 2M, max_bitrate: 1.5M } }',
        'alarms: { per_channel: 1/15m, types: { motion: 3, tripwire: 1 } }',
      ].join('\n'),
      { env: {} },
    );
    assert.deepEqual(list, []);
    assert.ok(s);
    assert.equal(s.durationMs, 5_400_000);
    assert.equal(s.devices.startupJitterMs, 1500);
    assert.deepEqual(s.load, {
      model: 'open',
      startRate: 100,
      stages: [{ durationMs: 120_000, target: 1 / 900 }],
    });
    assert.equal(s.media.ld, 300_000);
    assert.equal(s.media.fhd, 5_000_000);
    assert.equal(s.platform?.record?.segMaxSize, 2 * 1024 * 1024);
    assert.equal(s.platform?.record?.maxBitrate, 1_500_000);
    assert.deepEqual(s.alarms?.types, { motion: 0.75, tripwire: 0.25, external: 0 });
  });

  it('thresholds are kept as written and parsed once, by the metrics module', () => {
    const { scenario: s } = parseScenario(
      [
        'devices: { count: 1 }',
        'thresholds:',
        '  login_duration: ["p(99)<1000"]',
        '  "rpc_duration{method: RTMPPublish}": "p(95)<800"',
        '  disconnects: [{ threshold: "count==0", abort_on_fail: true, window: 30s }]',
      ].join('\n'),
      { env: {} },
    );
    assert.ok(s);
    assert.deepEqual(s.thresholds, {
      login_duration: ['p(99)<1000'],
      'rpc_duration{method: RTMPPublish}': 'p(95)<800',
      disconnects: [{ threshold: 'count==0', abort_on_fail: true, window: '30s' }],
    });
    const parsed = thresholdsOf(s);
    assert.deepEqual(parsed[1]!.selector.filter, { method: 'RTMPPublish' });
    assert.equal(parsed[2]!.abortOnFail, true);
    assert.equal(parsed[2]!.windowS, 30);
  });

  it('events are sorted by time and carry their defaults', () => {
    const { scenario: s } = parseScenario(
      [
        'devices: { count: 10, mix: [{ kind: nvr, channels: 4 }] }',
        'duration: 10m',
        'events:',
        '  - { at: 6m, disconnect: { fraction: 0.3, reconnect_after: 5s } }',
        '  - { at: 2m, reboot: { fraction: 0.1, channel: 3 }, over: 10s }',
        '  - { at: 4m, upgrade: { fraction: 0.2 } }',
      ].join('\n'),
      { env: {} },
    );
    assert.ok(s);
    assert.deepEqual(
      s.events.map((e) => [e.action, e.atMs]),
      [
        ['reboot', 120_000],
        ['upgrade', 240_000],
        ['disconnect', 360_000],
      ],
    );
    assert.deepEqual(s.events[0], {
      atMs: 120_000,
      overMs: 10_000,
      action: 'reboot',
      fraction: 0.1,
      channel: 3,
      downtimeMs: 30_000,
    });
    assert.equal(s.events[2]!.action === 'disconnect' && s.events[2]!.reconnectAfterMs, 5000);
  });

  it('x- keys hold YAML anchors that merge keys reuse', () => {
    const { scenario: s, problems: list } = parseScenario(
      'x-nvr: &nvr { kind: nvr, channels: 16 }\ndevices:\n  count: 4\n  mix: [{ <<: *nvr, profile: vendor }]\n',
      { env: {} },
    );
    assert.deepEqual(list, []);
    assert.equal(s?.devices.mix[0]?.channels, 16);
    assert.equal(s?.devices.mix[0]?.profile, 'vendor');
  });

  it('CIDR source addresses expand to host addresses', () => {
    const { scenario: s } = parseScenario(
      'devices: { count: 2, source_addresses: [127.0.5.0/29, 127.0.0.2] }',
      {
        env: {},
      },
    );
    assert.deepEqual(s?.devices.sourceAddresses, [
      '127.0.5.1',
      '127.0.5.2',
      '127.0.5.3',
      '127.0.5.4',
      '127.0.5.5',
      '127.0.5.6',
      '127.0.0.2',
    ]);
  });
});

describe('secrets', () => {
  const SECRET = 'pa55-Very-Secret';

  it('takes the password from an environment variable', () => {
    const s = loadScenario(write('devices: { count: 1, password: { env: IVT_PW } }'), {
      env: { IVT_PW: SECRET },
    });
    assert.equal(s.devices.password, SECRET);
    assert.deepEqual(s.devices.passwordSource, { kind: 'env', name: 'IVT_PW' });
  });

  it('takes the password from a file relative to the scenario, without the trailing newline', () => {
    writeFileSync(join(dir, 'pw.txt'), `${SECRET}\n`);
    const s = loadScenario(write('devices: { count: 1, password: { file: pw.txt } }'), { env: {} });
    assert.equal(s.devices.password, SECRET);
  });

  it('substitutes $-brace VAR references in a literal password', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the scenario's own ${VAR} syntax
    const s = loadScenario(write('devices: { count: 1, password: "x-${IVT_PW}-$${literal}" }'), {
      env: { IVT_PW: SECRET },
    });
    assert.equal(s.devices.password, `x-${SECRET}-\${literal}`);
  });

  it('a missing variable is a located problem that names the variable, not a value', () => {
    const p = only(
      problems('devices:\n  count: 1\n  password: { env: NOT_SET_ANYWHERE }\n'),
      'devices.password.env',
    );
    assert.equal(p.line, 3);
    assert.match(p.message, /NOT_SET_ANYWHERE is not set/);
  });

  it('never shows the password in masked output or in problems', () => {
    const path = write(
      `target: "wss://u:${SECRET}@127.0.0.1:9443/ivc?login_passwd=${SECRET}"\ndevices: { count: 1, password: "${SECRET}" }\n`,
    );
    const s = loadScenario(path, { env: {} });
    assert.equal(s.devices.password, SECRET);
    const masked = JSON.stringify(maskSecrets(s));
    assert.ok(!masked.includes(SECRET), masked);
    assert.equal(s.devices.password, SECRET, 'maskSecrets must not modify its argument');
    // A password of the wrong type: the problem says so without echoing it.
    const list = problems(`devices: { count: 1, password: [ "${SECRET}" ] }\n`);
    assert.ok(!list.map(formatProblem).join('\n').includes(SECRET));
  });
});

describe('capacity, devices.push and threshold expressions', () => {
  it('a capacity block becomes the staircase; its mistakes are located', () => {
    const { scenario: s } = parseScenario(
      'devices: { count: 500 }\ncapacity: { start: 100, step: 100, ramp: 2s, hold: 4s, sustain: 1s }\n',
      { env: {} },
    );
    assert.ok(s?.capacity);
    assert.equal(s.capacity.max, 500);
    assert.equal(s.load.stages.length, 10);
    assert.deepEqual(s.load.stages.slice(0, 2), [
      { durationMs: 2000, target: 100 },
      { durationMs: 4000, target: 100 },
    ]);
    const p = only(
      problems('devices: { count: 5 }\ncapacity: { start: 1, step: 1, hold: 2s, sustain: 5s }\n'),
      'capacity.sustain',
    );
    assert.equal(p.line, 2);
    assert.match(p.message, /longer than `hold`/);
    only(
      problems('devices: { count: 5 }\ncapacity: { mode: streams, start: 1, step: 1 }\n'),
      'capacity.mode',
    );
    only(
      problems(
        'devices: { count: 5 }\nstages: [{ duration: 1s, target: 5 }]\ncapacity: { start: 1, step: 1 }\n',
      ),
      'stages',
    );
  });

  it('devices.push: embedded or an rtmp:// template naming each device', () => {
    const { scenario: s } = parseScenario('devices: { count: 2, push: { url: embedded, quality: ld } }\n', {
      env: {},
    });
    assert.deepEqual(s?.devices.push, { url: 'embedded', quality: 'ld', channels: 1, fraction: 1 });
    const p = only(
      problems('devices: { count: 2, push: { url: "rtmp://127.0.0.1/live/same" } }\n'),
      'devices.push.url',
    );
    assert.match(p.message, /own stream name/);
  });

  it('a threshold scoped to an unknown stage, or naming an unknown metric, is placed on its field with a did-you-mean', () => {
    const list = problems(
      [
        'devices: { count: 2 }',
        'stages:',
        '  - { duration: 1s, target: 2 }',
        '  - { name: hold, duration: 5s, target: 2 }',
        'thresholds:',
        '  "devices{state:online}": [{ threshold: "min>=2", during: hodl }]',
        '  login_durations: ["p(99)<10"]',
      ].join('\n'),
    );
    const during = only(list, 'thresholds["devices{state:online}"][0].during');
    assert.equal(during.line, 6);
    assert.match(during.message, /no stage named "hodl" \(did you mean "hold"\?\)/);
    assert.match(only(list, 'thresholds.login_durations[0]').message, /did you mean "login_duration"/);
    // One spelling of the options: the camelCase one is an unknown field.
    const camel = problems(
      'devices: { count: 2 }\nthresholds:\n  rpc_errors: [{ threshold: "rate<0.1", abortOnFail: true }]\n',
    );
    assert.match(only(camel, 'thresholds.rpc_errors[0].abortOnFail').message, /did you mean `abort_on_fail`/);
  });

  it('an unknown metric or a malformed threshold expression is found at load time, with its line', () => {
    const list = problems(
      'devices: { count: 1 }\nthresholds:\n  login_duration: ["p(99)<<1"]\n  nosuch: ["count==0"]\n',
    );
    assert.equal(only(list, 'thresholds.login_duration[0]').line, 3);
    assert.match(only(list, 'thresholds.nosuch[0]').message, /unknown metric/);
  });
});
