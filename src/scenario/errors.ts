// Problems found in a scenario file, each pinned to a place in it. Messages never quote the
// value that was found, only what was expected: the value could be a password.
import type { Anchor, PathSegment } from './locate.js';

/** A problem known by its field path only; the loader turns it into a located ScenarioProblem. */
export interface FieldProblem {
  path: PathSegment[];
  /** Default `value`; `key` for unknown fields. */
  anchor?: Anchor;
  message: string;
  expected?: string;
}

export interface ScenarioProblem {
  /** The file as given by the caller (or `<string>`). */
  file: string;
  /** 1-based; 0 when the problem has no place (e.g. an unreadable file). */
  line: number;
  column: number;
  /** `devices.count`, `stages[1].duration`, or `(root)`. */
  path: string;
  message: string;
  /** What a valid value looks like, when that helps. */
  expected?: string;
}

export function formatProblem(p: ScenarioProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${where}  ${p.path}  ${p.message}${p.expected ? ` (expected ${p.expected})` : ''}`;
}

/** Thrown by `loadScenario`; `problems` lists every mistake found, in file order. */
export class ScenarioError extends Error {
  readonly problems: ScenarioProblem[];

  constructor(problems: ScenarioProblem[]) {
    const n = problems.length;
    super(`${n} problem${n === 1 ? '' : 's'} in scenario:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'ScenarioError';
    this.problems = problems;
  }
}

/** `['stages', 1, 'duration']` → `stages[1].duration`. */
export function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
