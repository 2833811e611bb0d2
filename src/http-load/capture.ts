// Values one request of an `http_load` sequence takes from its answer (`capture: { token:
// $.data.token }`) and the later requests of the sequence use as `{token}` in their path,
// headers or body — a login, then requests with its token, per connection. The path is a plain
// JSON path: `$`, then `.name` or `[index]` steps.

import { placeholdersOf } from '../api/actions.js';
import { type PathStep, parseJsonPath, readJsonPath } from '../api/capture.js';

export const CAPTURE_PATH = '^\\$(?:\\.[A-Za-z_][A-Za-z0-9_-]*|\\[\\d+\\])*$';
export const CAPTURE_NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

/**
 * The value at `path` (parsed once with the `api:` block's JSON path reader) in a JSON text, as a
 * string; null when the text or the path does not lead to a string or number.
 */
export function capture(body: string, path: string | readonly PathStep[]): string | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  value = readJsonPath(value, typeof path === 'string' ? parseJsonPath(path) : path);
  if (value === null || value === undefined || typeof value === 'object') return null;
  return String(value);
}

const NO_VALUES: Readonly<Record<string, string>> = {};

/**
 * `{name}` replaced by the captured value (or, failing that, the run's value), for the names
 * known so far; other braces stay.
 */
export function fill(
  text: string,
  values: Readonly<Record<string, string>>,
  fallback: Readonly<Record<string, string>> = NO_VALUES,
): string {
  return text.replace(
    /\{([A-Za-z_][A-Za-z0-9_]*)\}/g,
    (whole, name: string) => values[name] ?? fallback[name] ?? whole,
  );
}

/** Names a text refers to as `{name}`. */
export function placeholders(text: string): string[] {
  return [...placeholdersOf(text)];
}
