// Schema validation with ajv (allErrors), and the translation of ajv's errors into problems a
// person can act on: one problem per mistake, at the field it concerns, saying what was expected.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { closest } from '../core/suggest.js';
import type { FieldProblem } from './errors.js';
import type { PathSegment } from './locate.js';
import { type ScenarioFile, ScenarioFileSchema } from './schema.js';

interface SchemaNode {
  expected?: string;
  properties?: Record<string, unknown>;
  pattern?: string;
  type?: string;
}

let compiled: ValidateFunction<ScenarioFile> | undefined;

function validator(): ValidateFunction<ScenarioFile> {
  if (!compiled) {
    // verbose: errors carry their schema node (for `expected`); the data itself is never printed.
    const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
    ajv.addKeyword({ keyword: 'expected', schemaType: 'string' });
    compiled = ajv.compile<ScenarioFile>(ScenarioFileSchema);
  }
  return compiled;
}

/** Validates parsed data against the schema; an empty list means `data` is a `ScenarioFile`. */
export function validateSchema(data: unknown): FieldProblem[] {
  const validate = validator();
  if (validate(data)) return [];
  return explain(validate.errors ?? []);
}

function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

/** Is `e` an error from inside the anyOf `parent` (same instance subtree, deeper schema)? */
function within(e: ErrorObject, parent: ErrorObject): boolean {
  if (!e.schemaPath.startsWith(`${parent.schemaPath}/`)) return false;
  return e.instancePath === parent.instancePath || e.instancePath.startsWith(`${parent.instancePath}/`);
}

function branchOf(e: ErrorObject, parent: ErrorObject): string {
  return e.schemaPath.slice(parent.schemaPath.length + 1).split('/')[0]!;
}

function explain(errors: ErrorObject[]): FieldProblem[] {
  const dropped = new Set<ErrorObject>();
  const collapsed: FieldProblem[] = [];
  // Outer unions first, so that a union nested in a discarded branch is discarded with it.
  const unions = errors
    .filter((e) => e.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (dropped.has(union)) continue;
    const inner = errors.filter((e) => e !== union && within(e, union));
    const branches = new Map<string, ErrorObject[]>();
    for (const e of inner) {
      const key = branchOf(e, union);
      branches.set(key, [...(branches.get(key) ?? []), e]);
    }
    // A branch whose type matches the value is the one the user meant.
    const meant = [...branches.values()].filter(
      (errs) => !errs.some((e) => e.keyword === 'type' && e.instancePath === union.instancePath),
    );
    const structural = (e: ErrorObject) =>
      e.instancePath !== union.instancePath ||
      e.keyword === 'additionalProperties' ||
      e.keyword === 'required';
    if (meant.length === 1 && meant[0]!.every(structural)) {
      // Report that branch's own errors; forget the union and the other branches.
      dropped.add(union);
      for (const e of inner) if (!meant[0]!.includes(e)) dropped.add(e);
      continue;
    }
    for (const e of inner) dropped.add(e);
    dropped.add(union);
    const schema = union.parentSchema as SchemaNode | undefined;
    collapsed.push({
      path: pointerToPath(union.instancePath),
      message: meant.length === 0 ? `wrong type: found ${jsonType(union.data)}` : 'invalid value',
      ...(schema?.expected ? { expected: schema.expected } : {}),
    });
  }
  const problems = errors.filter((e) => !dropped.has(e)).map(describe);
  return [...collapsed, ...problems];
}

function describe(e: ErrorObject): FieldProblem {
  const path = pointerToPath(e.instancePath);
  const schema = (e.parentSchema ?? {}) as SchemaNode;
  const expected = schema.expected ? { expected: schema.expected } : {};
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      const wanted = TYPE_NAMES[String(params.type)] ?? String(params.type);
      const more = schema.expected && schema.expected !== wanted ? expected : {};
      return { path, message: `must be ${wanted}, not ${jsonType(e.data)}`, ...more };
    }
    case 'required':
      return {
        path: [...path, String(params.missingProperty)],
        message: 'missing required field',
        ...expected,
      };
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys(schema.properties ?? {});
      const guess = closest(key, known);
      return {
        path: [...path, key],
        anchor: 'key',
        message: `unknown field \`${key}\`${guess ? `, did you mean \`${guess}\`?` : ''}`,
        expected: `one of ${known.join(', ')}`,
      };
    }
    case 'enum':
      return {
        path,
        message: 'invalid value',
        expected: `one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
      };
    case 'pattern':
      return {
        path,
        message: 'invalid value',
        expected: schema.expected ?? `a string matching ${schema.pattern}`,
      };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `must be ${String(params.comparison)} ${String(params.limit)}`, ...expected };
    case 'minItems':
      return { path, message: `must have at least ${String(params.limit)} item(s)`, ...expected };
    case 'minLength':
      return { path, message: 'must not be empty', ...expected };
    case 'uniqueItems':
      return { path, message: `items ${String(params.j)} and ${String(params.i)} are the same`, ...expected };
    default:
      return { path, message: e.message ?? `fails ${e.keyword}`, ...expected };
  }
}
