// The one duration grammar of ivtfarm (k6 notation): scenario fields, threshold options and
// time ranges all read durations here.

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `500ms`, `30s`, `2m`, `1h30m`, `1.5s`, or `0`. Also the schema's `pattern`. */
export const DURATION_PATTERN = '^(?:(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d))+|0)$';

const durationRe = new RegExp(DURATION_PATTERN);
const durationPartRe = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Thrown by the converters when a value slipped past (or was never checked against) its pattern. */
export class UnitError extends Error {}

/** Milliseconds of one unit (`ms`, `s`, `m`, `h`, `d`). */
export function unitMs(unit: string): number {
  const ms = DURATION_UNITS_MS[unit];
  if (ms === undefined) throw new UnitError(`unknown time unit "${unit}"`);
  return ms;
}

/** Duration string (or a number of seconds) → milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new UnitError(`invalid duration ${value}`);
    return Math.round(value * 1000);
  }
  const text = value.trim();
  if (!durationRe.test(text))
    throw new UnitError(`invalid duration "${value}" (expected e.g. 500ms, 30s, 1m30s, 2h)`);
  if (text === '0') return 0;
  let ms = 0;
  for (const m of text.matchAll(durationPartRe)) ms += Number(m[1]) * unitMs(m[2]!);
  return Math.round(ms);
}

/** Milliseconds → the shortest duration string that parses back to the same value. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  if (rest > 0) out += `${rest}ms`;
  return out;
}
