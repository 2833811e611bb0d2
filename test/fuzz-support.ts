// Shared parts of the fuzz tests: run settings (fixed seed, bounded runs and time, overridable
// from the environment), arbitraries built from the project's own JSON schemas (TypeBox), and
// mutations that turn a valid value into a subtly or grossly wrong one.
import fc from 'fast-check';

/**
 * `FUZZ_SEED` replays or varies a run (the seed of a failure is printed with its counterexample);
 * `FUZZ_RUNS` sets the runs of every property (default: each property's own small count);
 * `FUZZ_TIME_S` bounds each property's time (default 12 s, enough for the default runs).
 */
export function fuzzSettings<T>(defaultRuns: number): fc.Parameters<T> {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261201;
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : defaultRuns;
  const seconds = process.env.FUZZ_TIME_S ? Number(process.env.FUZZ_TIME_S) : 12;
  if (![seed, runs, seconds].every(Number.isFinite))
    throw new Error('FUZZ_SEED, FUZZ_RUNS, FUZZ_TIME_S must be numbers');
  return {
    seed,
    numRuns: runs,
    interruptAfterTimeLimit: seconds * 1000,
    // Running out of time ends the exploration, it is not a failure; but it must have run at all.
    markInterruptAsFailure: false,
    // Shrinking over sockets is slow: a few steps are enough to make a counterexample readable.
    endOnFailure: process.env.FUZZ_SHRINK === undefined,
    includeErrorInReport: true,
  };
}

/** Runs a property and fails with fast-check's report (seed, path, counterexample) on a failure. */
export async function checkProperty<T>(
  property: fc.IAsyncProperty<T> | fc.IProperty<T>,
  defaultRuns: number,
) {
  const details = await fc.check(property as fc.IAsyncProperty<T>, fuzzSettings<T>(defaultRuns));
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? 'property failed');
  if (details.numRuns === 0) throw new Error('the property ran no case at all (time limit too short?)');
  return details;
}

/** The JSON-schema keywords TypeBox emits that the generator reads. */
interface Schema {
  type?: string;
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  patternProperties?: Record<string, Schema>;
  items?: Schema;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  not?: Schema;
}

/** Values a schema accepts (apart from rare format details), to start mutations from. */
export function validValue(schema: unknown, depth = 0): fc.Arbitrary<unknown> {
  const s = schema as Schema;
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => validValue(x, depth)));
  switch (s.type) {
    case 'object': {
      if (s.patternProperties) {
        const [pattern, inner] = Object.entries(s.patternProperties)[0]!;
        return fc.dictionary(fc.stringMatching(new RegExp(pattern)), validValue(inner, depth + 1), {
          maxKeys: depth > 2 ? 1 : 3,
        });
      }
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, inner] of Object.entries(props)) record[key] = validValue(inner, depth + 1);
      return fc.record(record, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
    }
    case 'array':
      return fc.array(validValue(s.items ?? {}, depth + 1), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 3, depth > 2 ? 1 : 3),
      });
    case 'string':
      return s.pattern
        ? fc.stringMatching(new RegExp(s.pattern))
        : fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 12, 12) });
    case 'integer':
      return fc.integer({ min: s.minimum ?? -1000, max: s.maximum ?? 100_000 });
    case 'number':
      return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 100_000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      // Type.Unknown and friends: any JSON value.
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Replacement values that break types and bounds: each is valid JSON. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, -0.5, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, '', '0', []),
  fc.constantFrom(
    {},
    { '': 1 },
    JSON.parse('{"__proto__": {"polluted": 1}}'),
    '\u0000',
    '\ud800',
    '%00',
    `\${HOME}`,
    '../../etc/passwd',
  ),
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 1, max: 3 }).map((n) => 'x'.repeat(10 ** (n + 2))), // 1 KB … 100 KB
  fc.integer({ min: 50, max: 1000 }).map(deeplyNested),
);

/** `[[[…0…]]]` nested `depth` levels. */
export function deeplyNested(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

/** Every path to a node of a JSON value (the root included, as `[]`). */
function pathsOf(
  value: unknown,
  prefix: Array<string | number> = [],
  out: Array<Array<string | number>> = [],
) {
  out.push(prefix);
  if (prefix.length > 8) return out;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) pathsOf(v, [...prefix, i], out);
  } else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

type Mutation =
  | { kind: 'replace'; value: unknown }
  | { kind: 'delete' }
  | { kind: 'extraKey'; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: hostileValue.map((value): Mutation => ({ kind: 'replace', value })) },
  { weight: 2, arbitrary: fc.constant<Mutation>({ kind: 'delete' }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 8 }), hostileValue)
      .map(([key, value]): Mutation => ({ kind: 'extraKey', key, value })),
  },
);

/** A valid value with one to three of its nodes replaced, deleted or given an unknown key. */
export function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .tuple(valid, fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 3 }))
    .map(([value, steps]) => {
      let out = structuredClone(value);
      for (const [pick, step] of steps) out = applyMutation(out, pick, step);
      return out;
    });
}

function applyMutation(root: unknown, pick: number, step: Mutation): unknown {
  const paths = pathsOf(root);
  const path = paths[pick % paths.length]!;
  if (path.length === 0) {
    if (step.kind === 'replace') return step.value;
    if (step.kind === 'extraKey' && isObject(root)) root[step.key] = step.value;
    return root;
  }
  let parent = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (step.kind === 'replace') parent[last] = step.value;
  else if (step.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (isObject(parent[last])) (parent[last] as Record<string, unknown>)[step.key] = step.value;
  return root;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
