// Entry points: read a scenario file (YAML, or JSON through the same parser so that it gets
// line numbers too), validate it and return the resolved Scenario or every problem found.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { type FieldProblem, formatPath, ScenarioError, type ScenarioProblem } from './errors.js';
import { SourceMap } from './locate.js';
import { normalize } from './normalize.js';
import type { ScenarioFile } from './schema.js';
import type { Scenario } from './types.js';
import { validateSchema } from './validate.js';

export interface LoadOptions {
  /** Environment for password substitution; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory the output dir is relative to; default `process.cwd()`. */
  cwd?: string;
}

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
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return { problems: [{ file, line: 1, column: 1, path: '(syntax)', message: (err as Error).message }] };
  }
  const map = new SourceMap(doc, lineCounter);
  const place = (p: FieldProblem): ScenarioProblem => {
    const { line, column } = map.locate(p.path, p.anchor);
    return {
      file,
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
    env: options.env ?? process.env,
  });
  if (problems.length > 0) return { problems: sortProblems(problems.map(place)) };
  return { scenario, problems: [] };
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
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return {
      problems: [
        { file: path, line: 0, column: 0, path: '(file)', message: `cannot read the file (${code})` },
      ],
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
