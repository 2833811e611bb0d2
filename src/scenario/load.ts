// Entry points: read a scenario file (YAML, or JSON through the same parser so that it gets
// line numbers too), validate it and return the resolved Scenario or every problem found.
import { dirname, resolve } from 'node:path';
import { type Document, LineCounter, parseDocument } from 'yaml';
import { findTooDeep, MAX_DEPTH } from './depth.js';
import { type FieldProblem, formatPath, ScenarioError, type ScenarioProblem } from './errors.js';
import { FileReadError, readRegularFile } from './files.js';
import { type InterpolationResult, interpolate, type Reference } from './interpolate.js';
import { SourceMap } from './locate.js';
import { normalize } from './normalize.js';
import {
  applyOverride,
  checkOverridePath,
  type Override,
  OverrideError,
  overrideCovers,
  parseOverride,
} from './overrides.js';
import type { ScenarioFile } from './schema.js';
import type { Scenario } from './types.js';
import { validateSchema } from './validate.js';

export interface LoadOptions {
  /** Environment for `${VAR}` substitution and `password: { env }`; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory the output dir is relative to; default `process.cwd()`. */
  cwd?: string;
  /** `--set path=value` arguments, applied in order after substitution. */
  overrides?: readonly string[];
}

/** No scenario is anywhere near this; a bigger file is refused rather than read into memory. */
export const MAX_SCENARIO_BYTES = 16 * 1024 * 1024;

/** Problems found before validation are named by `--set`, not by a line of the file. */
const SET = '--set';

export interface ParseOptions extends LoadOptions {
  /** Name used in problems; default `<string>`. */
  file?: string;
  /** Directory relative paths in the scenario are resolved against; default `cwd`. */
  baseDir?: string;
}

export interface ParseResult {
  scenario?: Scenario;
  problems: ScenarioProblem[];
}

/** Parses and validates scenario text. `scenario` is set only when there is no problem. */
export function parseScenario(text: string, options: ParseOptions = {}): ParseResult {
  const file = options.file ?? '<string>';
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const tooDeep = findTooDeep(text);
  if (tooDeep) {
    const shown = tooDeep.path.slice(0, 6);
    return {
      problems: [
        {
          file,
          line: tooDeep.line,
          column: tooDeep.column,
          path: `${formatPath(shown)}${tooDeep.path.length > shown.length ? '…' : ''}`,
          message: `nested deeper than ${MAX_DEPTH} levels`,
        },
      ],
    };
  }
  const lineCounter = new LineCounter();
  // merge: k6/Artillery users share blocks with `<<: *defaults`.
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e): ScenarioProblem => {
      const pos = e.linePos?.[0] ?? { line: 0, col: 0 };
      const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return { file, line: pos.line, column: pos.col, path: '(syntax)', message };
    });
    return { problems: sortProblems(problems) };
  }
  const substituted = interpolate(doc, env);
  const early = referenceProblems(substituted, file, lineCounter);
  const { overrides, problems: overrideProblems } = applyOverrides(doc, options.overrides ?? []);
  early.push(...overrideProblems);
  if (early.length > 0) return { problems: sortProblems(early) };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return { problems: [{ file, line: 1, column: 1, path: '(syntax)', message: (err as Error).message }] };
  }
  const map = new SourceMap(doc, lineCounter);
  const place = (p: FieldProblem): ScenarioProblem => {
    const overridden = overrides.some((o) => overrideCovers(o, p.path));
    const { line, column } = overridden ? { line: 0, column: 0 } : map.locate(p.path, p.anchor);
    return {
      file: overridden ? SET : file,
      line,
      column,
      path: formatPath(p.path),
      message: p.message,
      ...(p.expected ? { expected: p.expected } : {}),
    };
  };
  const schemaProblems = validateSchema(data);
  if (schemaProblems.length > 0) return { problems: sortProblems(schemaProblems.map(place)) };
  const { scenario, problems } = normalize(data as ScenarioFile, {
    file: options.file !== undefined ? resolve(cwd, options.file) : null,
    baseDir: options.baseDir ?? cwd,
    cwd,
    env,
    parameters: {
      variables: substituted.used,
      overrides: overrides.map((o) => ({ path: o.text, value: o.value })),
    },
  });
  if (problems.length > 0) return { problems: sortProblems(problems.map(place)) };
  return { scenario, problems: [] };
}

/** Unset and malformed `${…}` references, each at the string it is in. */
function referenceProblems(
  found: InterpolationResult,
  file: string,
  lineCounter: LineCounter,
): ScenarioProblem[] {
  const at = (r: Reference) => {
    const { line, col } = lineCounter.linePos(r.node.range?.[0] ?? 0);
    return { file, line, column: col, path: formatPath(r.path) };
  };
  return [
    ...found.unset.map((r) => ({
      ...at(r),
      message: `environment variable ${r.name} is not set`,
      expected: `a value for ${r.name}, or a default such as \${${r.name}:-value}`,
    })),
    ...found.malformed.map((r) => ({
      ...at(r),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shows the user the ${VAR} syntax
      message: 'malformed ${…} reference',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: same
      expected: '${NAME} or ${NAME:-default}, NAME made of letters, digits and _',
    })),
  ];
}

/** Parses, checks and applies every `--set`; all their problems at once, named by `--set`. */
function applyOverrides(
  doc: Document,
  args: readonly string[],
): { overrides: Override[]; problems: ScenarioProblem[] } {
  const overrides: Override[] = [];
  const problems: ScenarioProblem[] = [];
  const report = (p: FieldProblem) =>
    problems.push({
      file: SET,
      line: 0,
      column: 0,
      path: formatPath(p.path),
      message: p.message,
      ...(p.expected ? { expected: p.expected } : {}),
    });
  for (const arg of args) {
    let o: Override;
    try {
      o = parseOverride(arg);
    } catch (err) {
      if (!(err instanceof OverrideError)) throw err;
      problems.push({ file: SET, line: 0, column: 0, path: '(argument)', message: err.message });
      continue;
    }
    const unknown = checkOverridePath(o);
    if (unknown.length > 0) {
      unknown.forEach(report);
      continue;
    }
    const failed = applyOverride(doc, o);
    if (failed) report(failed);
    else overrides.push(o);
  }
  return { overrides, problems };
}

function sortProblems(problems: ScenarioProblem[]): ScenarioProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = `${p.line}:${p.column}:${p.path}:${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path));
}

function parseFile(path: string, options: LoadOptions): ParseResult {
  const cwd = options.cwd ?? process.cwd();
  let text: string;
  try {
    text = readRegularFile(resolve(cwd, path), MAX_SCENARIO_BYTES);
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    return {
      problems: [{ file: path, line: 0, column: 0, path: '(file)', message: `the file ${err.message}` }],
    };
  }
  return parseScenario(text, { ...options, file: path, baseDir: dirname(resolve(cwd, path)) });
}

/** Reads a scenario file; throws a ScenarioError listing every problem. */
export function loadScenario(path: string, options: LoadOptions = {}): Scenario {
  const { scenario, problems } = parseFile(path, options);
  if (!scenario) throw new ScenarioError(problems);
  return scenario;
}

/** For `ivtfarm validate FILE`: never throws for a bad scenario. */
export function validateScenarioFile(
  path: string,
  options: LoadOptions = {},
): { ok: boolean; errors: ScenarioProblem[]; scenario?: Scenario } {
  const { scenario, problems } = parseFile(path, options);
  return scenario ? { ok: true, errors: [], scenario } : { ok: false, errors: problems };
}
