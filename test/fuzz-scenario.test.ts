// Fuzz: scenario documents generated from the scenario schema, mutated, written as YAML or JSON,
// or the shipped examples broken at the text level, all through the loader. Each gives a valid
// scenario or located problems (file, line, field, message); anything thrown is a failure.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseScenario } from '../src/scenario/index.js';
import { ScenarioFileSchema } from '../src/scenario/schema.js';
import { checkProperty, hostileValue, mutated, validValue } from './fuzz-support.js';

// Relative paths in a fuzzed document (password files, CA files, output) land in an empty directory.
const sandbox = mkdtempSync(join(tmpdir(), 'ivtfarm-fuzz-'));
after(() => rmSync(sandbox, { recursive: true, force: true }));

const FILE = 'fuzzed.yaml';
const env = { IVT_PASSWORD: 'fuzz-secret', COUNT: '10', EMPTY: '' };
const examples = readdirSync('scenarios')
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .map((f) => readFileSync(join('scenarios', f), 'utf8'));

/** Text-level damage: what an editor, a merge or a careless paste does to a YAML file. */
const textEdit = fc.oneof(
  fc.tuple(fc.nat(), fc.nat({ max: 40 })).map(([at, n]) => (t: string) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + t.slice(i + n);
  }),
  fc
    .tuple(
      fc.nat(),
      fc.oneof(
        fc.constantFrom(
          '\t',
          ': ',
          '- ',
          '{',
          '[',
          '}',
          ']',
          '&a ',
          '*a',
          '<<: *a',
          '!!binary ',
          '!x ',
          '? ',
          '|',
          '>',
        ),
        fc.constantFrom(
          `\${COUNT}`,
          `\${NOPE}`,
          `\${EMPTY:-3}`,
          '${',
          '"',
          "'",
          '#',
          '\n  ',
          '\n',
          '\u0000',
          '\ufeff',
          '%YAML 1.1\n',
        ),
        fc.string({ maxLength: 8 }),
      ),
    )
    .map(([at, piece]) => (t: string) => {
      const i = at % (t.length + 1);
      return t.slice(0, i) + piece + t.slice(i);
    }),
  fc.nat().map((at) => (t: string) => {
    const lines = t.split('\n');
    const i = at % lines.length;
    return [...lines.slice(0, i + 1), lines[i], ...lines.slice(i + 1)].join('\n'); // duplicate key lines
  }),
);

/** Block YAML; the yaml library cannot write a very deep value, JSON (flow YAML) can. */
function asYaml(value: unknown): string {
  try {
    return stringify(value);
  } catch {
    return JSON.stringify(value);
  }
}

const document = fc.oneof(
  // Schema-generated files, valid or mutated, as YAML or JSON.
  fc
    .tuple(fc.oneof(validValue(ScenarioFileSchema), mutated(validValue(ScenarioFileSchema))), fc.boolean())
    .map(([value, json]) => (json ? JSON.stringify(value, null, 2) : asYaml(value))),
  // A shipped example with text edits.
  fc
    .tuple(fc.constantFrom(...examples), fc.array(textEdit, { minLength: 1, maxLength: 4 }))
    .map(([text, edits]) => edits.reduce((t, edit) => edit(t), text)),
  // A shipped example with a value somewhere replaced by a hostile one.
  fc.tuple(fc.constantFrom(...examples), fc.nat(), hostileValue).map(([text, at, value]) => {
    const lines = text.split('\n');
    const i = at % lines.length;
    const colon = lines[i]!.indexOf(': ');
    if (colon >= 0) lines[i] = `${lines[i]!.slice(0, colon + 2)}${JSON.stringify(value)}`;
    return lines.join('\n');
  }),
  // A password file that is no regular file, or is missing, empty or the scenario directory.
  fc
    .tuple(
      fc.constantFrom(...examples.filter((t) => /^devices:$/m.test(t))),
      fc.constantFrom(
        '/dev/zero',
        '/dev/null',
        '/dev/stdin',
        '/proc/self/status',
        '.',
        'missing.txt',
        '/',
        '',
      ),
    )
    .map(([text, file]) => text.replace(/^devices:$/m, `devices:\n  password: ${JSON.stringify({ file })}`)),
  // Deep nesting, flow and block, around the loader's depth limit.
  fc
    .tuple(fc.integer({ min: 50, max: 5000 }), fc.boolean())
    .map(([depth, flow]) =>
      flow
        ? `name: deep\nload: ${'['.repeat(depth)}1${']'.repeat(depth)}\n`
        : `name: deep\n${Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`,
    ),
);

test('random scenario documents give a valid scenario or located problems, never a crash', async (t) => {
  let valid = 0;
  const details = await checkProperty(
    fc.property(
      document.map((text) =>
        Object.assign({ text }, { [fc.toStringMethod]: () => JSON.stringify(text.slice(0, 2000)) }),
      ),
      ({ text }) => {
        // A hang cannot be interrupted here: FUZZ_TRACE=<file> keeps the input being parsed.
        if (process.env.FUZZ_TRACE) writeFileSync(process.env.FUZZ_TRACE, text);
        const result = parseScenario(text, { file: FILE, env, cwd: sandbox, baseDir: sandbox });
        if (result.scenario) {
          assert.deepEqual(result.problems, []);
          valid++;
          return;
        }
        assert.ok(result.problems.length > 0, 'neither a scenario nor a problem');
        for (const p of result.problems) {
          const shown = JSON.stringify(p);
          assert.equal(p.file, FILE, `problem not named by the file: ${shown}`);
          assert.ok(Number.isInteger(p.line) && p.line >= 1, `problem without a line: ${shown}`);
          assert.ok(
            p.path.length > 0 && p.message.length > 0,
            `problem without a field or message: ${shown}`,
          );
          assert.ok(!p.message.includes('fuzz-secret'), `a problem shows the password: ${shown}`);
        }
      },
    ),
    300,
  );
  t.diagnostic(`${details.numRuns} runs, seed ${details.seed}, ${valid} valid scenarios`);
});

// Found by this fuzzer: the staircase was built step by step before the file was refused.
test('a capacity search of 1e308 levels is a located error, not a hang', () => {
  const text = readFileSync('scenarios/find-capacity.yaml', 'utf8').replace(/^ {2}max: .*$/m, '  max: 1e308');
  const result = parseScenario(text, { file: FILE, env, cwd: sandbox, baseDir: sandbox });
  const line = text.split('\n').findIndex((l) => l.includes('max: 1e308')) + 1;
  assert.ok(line > 0);
  assert.deepEqual(
    result.problems
      .filter((p) => p.message.includes('steps'))
      .map((p) => [p.file, p.line, p.path, p.message]),
    [[FILE, line, 'capacity.max', 'gives more than 1000 steps from `start` by `step`']],
  );
});
