// Values taken from an API answer by a small JSON path: `$`, `.name`, `['name']`, `[index]` —
// the subset every "capture the token" step of k6, Artillery or JMeter scripts uses.

export type PathStep = string | number;

export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPathError';
  }
}

const STEP = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;

/** Parses `$.data.token` or `$.items[0]['id']`; throws JsonPathError with what is wrong. */
export function parseJsonPath(path: string): PathStep[] {
  if (!path.startsWith('$')) throw new JsonPathError('a JSON path starts with $ (e.g. $.token)');
  const steps: PathStep[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    const m = STEP.exec(rest);
    if (!m) throw new JsonPathError(`cannot read "${rest.slice(0, 40)}" (use .name, ['name'] or [index])`);
    if (m[1] !== undefined) steps.push(m[1]);
    else if (m[2] !== undefined) steps.push(Number(m[2]));
    else steps.push(m[3] ?? m[4]!);
    rest = rest.slice(m[0].length);
  }
  return steps;
}

/** The value at `steps` in `value`, or undefined when the path leads nowhere. */
export function readJsonPath(value: unknown, steps: readonly PathStep[]): unknown {
  let at: unknown = value;
  for (const step of steps) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[step];
  }
  return at;
}

/**
 * The captures of an answer: a string or number at each path. A path that leads nowhere (or to
 * an object) is left out and named in `missing`.
 */
export function captureValues(
  body: unknown,
  captures: Readonly<Record<string, string>>,
): { values: Record<string, string | number>; missing: string[] } {
  const values: Record<string, string | number> = {};
  const missing: string[] = [];
  for (const [name, path] of Object.entries(captures)) {
    const v = readJsonPath(body, parseJsonPath(path));
    if (typeof v === 'string' || typeof v === 'number') values[name] = v;
    else missing.push(name);
  }
  return { values, missing };
}
