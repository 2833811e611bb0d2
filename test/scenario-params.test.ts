// Parameterised scenarios (in process): ${VAR} substitution in any string, --set overrides and
// tags, each checked through the loader as `ivtfarm validate` and `run` use it.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is what is tested
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Aggregator } from '../src/metrics/aggregator.js';
import { renderPrometheus } from '../src/metrics/prometheus.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { junitXml } from '../src/report/junit.js';
import { headerSection, type SectionInput } from '../src/report/sections.js';
import type { ReportSummary } from '../src/report/types.js';
import {
  formatProblem,
  loadScenario,
  maskSecrets,
  type ScenarioProblem,
  validateScenarioFile,
} from '../src/scenario/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ivtfarm-params-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function write(text: string): string {
  const path = join(dir, `p${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function rejected(
  text: string,
  env: Record<string, string> = {},
  overrides: string[] = [],
): ScenarioProblem[] {
  const result = validateScenarioFile(write(text), { env, overrides });
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.errors;
}

const REMOTE = `target: "ws://\${IVC_HOST}:\${IVC_PORT:-8080}/ivc"
devices:
  count: 3
  password: { env: PW }
`;

describe('${VAR} in any string', () => {
  it('substitutes the environment into the target, keeping case, with :- defaults', () => {
    const s = loadScenario(write(REMOTE), { env: { IVC_HOST: 'Lab-Host', PW: 'x' } });
    assert.deepEqual(s.target, {
      kind: 'remote',
      url: 'ws://Lab-Host:8080/ivc',
      urls: ['ws://Lab-Host:8080/ivc'],
      ca: null,
      insecure: false,
    });
    const set = loadScenario(write(REMOTE), { env: { IVC_HOST: '127.0.0.1', IVC_PORT: '9001', PW: 'x' } });
    assert.equal(set.target.kind === 'remote' && set.target.url, 'ws://127.0.0.1:9001/ivc');
    assert.deepEqual(set.parameters.variables, ['IVC_HOST', 'IVC_PORT']);
  });

  it('an unquoted value is read as YAML once substituted; a quoted one stays a string', () => {
    const s = loadScenario(write('devices:\n  count: ${N:-7}\n  login_code: "cam-${SITE}-{index}"\n'), {
      env: { SITE: 'Paris' },
    });
    assert.equal(s.devices.count, 7);
    assert.equal(s.devices.loginCode, 'cam-Paris-{index}');
    const quoted = rejected('devices:\n  count: "${N}"\n', { N: '5' });
    assert.match(formatProblem(quoted[0]!), /:2:10 {2}devices\.count {2}must be an integer, not a string/);
  });

  it('$$ is a literal $, and a password literal is substituted once', () => {
    const s = loadScenario(write('devices:\n  count: 1\n  password: "a$$b-${P}"\nname: "cost $$5"\n'), {
      env: { P: '${Q}' },
    });
    assert.equal(s.devices.password, 'a$b-${Q}');
    assert.equal(s.name, 'cost $5');
  });

  it('an unset variable without default is an error naming file, line, field and variable', () => {
    const file = write('name: x\ntarget: "ws://${IVC_HOST}:8080/ivc"\ndevices: { count: 1, password: pw }\n');
    const result = validateScenarioFile(file, { env: {} });
    assert.equal(result.ok, false);
    assert.deepEqual(result.errors.map(formatProblem), [
      `${file}:2:9  target  environment variable IVC_HOST is not set (expected a value for IVC_HOST, or a default such as \${IVC_HOST:-value})`,
    ]);
  });

  it('a malformed reference is located; the value of a set variable never appears in a problem', () => {
    const problems = rejected('devices:\n  count: 1\n  hardware_model: "${1BAD}"\n  channels: ${SECRET}\n', {
      SECRET: 'hunter2',
    });
    const text = problems.map(formatProblem).join('\n');
    assert.match(text, /:3:19 {2}devices\.hardware_model {2}malformed \$\{…\} reference/);
    const unclosed = rejected('devices:\n  count: 1\nname: "run-${BUILD"\n');
    assert.match(formatProblem(unclosed[0]!), /:3:7 {2}name {2}malformed \$\{…\} reference/);
    assert.doesNotMatch(text, /hunter2/);
  });
});

describe('--set path=value', () => {
  const base = 'devices:\n  count: 5\nstages:\n  - { duration: 2s, target: 5 }\n';

  it('overrides any field, values read as YAML scalars, and is kept for summary.json', () => {
    const s = loadScenario(write(base), {
      env: {},
      overrides: ['devices.count=20', 'stages[0].target=20', 'report.formats=[json]', 'name=nightly'],
    });
    assert.equal(s.devices.count, 20);
    assert.equal(s.load.stages[0]!.target, 20);
    assert.deepEqual(s.report.formats, ['json']);
    assert.equal(s.name, 'nightly');
    assert.deepEqual(s.parameters.overrides, [
      { path: 'devices.count', value: 20 },
      { path: 'stages[0].target', value: 20 },
      { path: 'report.formats', value: ['json'] },
      { path: 'name', value: 'nightly' },
    ]);
  });

  it('an unknown path is an error naming the --set, with a did-you-mean', () => {
    const problems = rejected(base, {}, ['devices.cuont=3', 'stages[3].duration=1s', 'devices.count']);
    assert.deepEqual(problems.map(formatProblem).sort(), [
      '--set  (argument)  `devices.count`: expected path=value, e.g. devices.count=20',
      '--set  devices.cuont  unknown field `cuont` in devices, did you mean `count`? (expected one of count, login_code, password, hardware_model, firmware_model, channels, mix, source_addresses, startup_jitter, push)',
      '--set  stages[3].duration  stages has 1 entry (0 to 0)',
    ]);
  });

  it('a bad value is reported against the --set, not against a line of the file', () => {
    const problems = rejected(base, {}, ['devices.count=many', 'stages[0].target=50']);
    assert.deepEqual(problems.map(formatProblem), [
      '--set  devices.count  must be an integer, not a string (expected an integer from 1 to 1000000)',
    ]);
    const second = rejected(base, {}, ['stages[0].target=50']);
    assert.deepEqual(second.map(formatProblem), [
      '--set  stages[0].target  exceeds devices.count (5) (expected at most 5)',
    ]);
  });

  it('a password given with --set is masked wherever the overrides are shown', () => {
    const s = loadScenario(write(base), { env: {}, overrides: ['devices.password=s3cret-pw'] });
    assert.equal(s.devices.password, 's3cret-pw');
    assert.doesNotMatch(JSON.stringify(maskSecrets(s)), /s3cret-pw/);
  });
});

describe('tags', () => {
  const tagged = `tags: { env: staging, build: 1234 }
devices:
  count: 4
  mix:
    - { name: acme-cam, weight: 3, tags: { vendor: acme } }
    - { name: nvr/vendor, kind: nvr, weight: 1, tags: { vendor: other, rack: 7 } }
`;

  it('the run and each mix entry carry their tags, values as strings', () => {
    const s = loadScenario(write(tagged), { env: {} });
    assert.deepEqual(s.tags, { env: 'staging', build: '1234' });
    assert.deepEqual(
      s.devices.mix.map((m) => [m.name, m.tags]),
      [
        ['acme-cam', { vendor: 'acme' }],
        ['nvr/vendor', { vendor: 'other', rack: '7' }],
      ],
    );
  });

  it('a tag name that is no label name, or is a metric label already, is a located error', () => {
    const problems = rejected(
      'tags: { "bad-name": 1, result: x, __x: 2 }\ndevices:\n  count: 1\n  mix: [{ name: "a b" }]\n',
    );
    assert.deepEqual(
      problems.map((p) => `${p.line} ${p.path} ${p.message}`),
      [
        '1 tags["bad-name"] not a valid tag name',
        '1 tags.result `result` is a metric label already',
        '1 tags.__x not a valid tag name',
        '4 devices.mix[0].name not usable as a metric label',
      ],
    );
  });

  it('tags reach JUnit properties, the report header and Prometheus labels; counters carry the mix name', () => {
    const s = loadScenario(write(tagged), { env: {}, overrides: ['devices.count=8'] });
    const summary = {
      schema: 'ivtfarm.summary/1',
      run: {
        name: 'tagged',
        tags: s.tags,
        parameters: s.parameters,
        verdict: 'pass',
        exit_code: 0,
        stop_reason: 'completed',
        started_at: '2026-12-01T10:00:00.000Z',
        duration_s: 1,
      },
      devices: {
        planned: 8,
        workers: 1,
        shard: '0/1',
        mix: s.devices.mix.map((m) => ({ name: m.name, tags: m.tags })),
      },
      target: { kind: 'embedded', url: null },
      generator: { limited: false, reasons: [] },
      thresholds: [],
      capacity: null,
    } as unknown as ReportSummary;
    const xml = junitXml(summary);
    assert.match(
      xml,
      /<property name="tag\.env" value="staging"\/><property name="tag\.build" value="1234"\/>/,
    );
    assert.match(xml, /<property name="mix\.nvr\/vendor\.rack" value="7"\/>/);
    const header = headerSection({ summary, scenario: null, notes: [] } as unknown as SectionInput);
    assert.match(
      header,
      /env=staging · build=1234 · acme-cam: vendor=acme · nvr\/vendor: vendor=other rack=7/,
    );
    assert.match(header, /--set devices\.count=8/);

    const registry = new MetricsRegistry({ source: 'w', now: () => 1_700_000_000_005 });
    registry.counter('logins', { result: 'ok', reason: 'ok', mix: 'nvr/vendor' }).add(2);
    const aggregator = new Aggregator();
    aggregator.add(registry.takeDelta());
    aggregator.closeAll();
    const text = renderPrometheus(aggregator, { tags: s.tags, mix: s.devices.mix });
    assert.match(
      text,
      /^ivtfarm_logins_total\{result="ok",reason="ok",mix="nvr\/vendor",env="staging",build="1234"\} 2$/m,
    );
    assert.match(text, /^ivtfarm_mix_info\{env="staging",build="1234",mix="acme-cam",vendor="acme"\} 1$/m);
  });
});
