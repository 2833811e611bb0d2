// Values one request of an `http_load` sequence takes from its answer (`capture: { token:
// $.data.token }`) and the later requests of the sequence use as `{token}` in their path,
// headers or body — a login, then requests with its token, per connection. The path is a plain
// JSON path: `$`, then `.name` or `[index]` steps.

export const CAPTURE_PATH = '^\\$(?:\\.[A-Za-z_][A-Za-z0-9_-]*|\\[\\d+\\])*$';
export const CAPTURE_NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

/** The value at `path` in a JSON text, as a string; null when the text or the path does not lead to one. */
export function capture(body: string, path: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  for (const m of path.slice(1).matchAll(/\.([^.[]+)|\[(\d+)\]/g)) {
    if (value === null || typeof value !== 'object') return null;
    value =
      m[1] !== undefined ? (value as Record<string, unknown>)[m[1]] : (value as unknown[])[Number(m[2])];
  }
  if (value === null || value === undefined || typeof value === 'object') return null;
  return String(value);
}

/** `{name}` replaced by the captured value, for the names captured so far; other braces stay. */
export function fill(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** Names a text refers to as `{name}`. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);
}
