// Unit strings of scenario files: durations, rates, bitrates and byte sizes. Each has a regular
// expression (used as the schema's `pattern`, so a bad value is reported with its line) and a
// converter that turns an already-validated value into plain numbers.

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `2m`, `1h30m`, `1.5s`, or `0`. */
export const DURATION_PATTERN = '^(?:(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d))+|0)$';
/** `100/s`, `1/15m`, `2.5/100ms`. */
export const RATE_PATTERN = '^\\d+(?:\\.\\d+)?\\s*/\\s*(?:\\d+(?:\\.\\d+)?)?(?:ms|s|m|h|d)$';
/** `256k`, `2M`, `1.5M`, `2000000`, optionally followed by `bps`. Decimal multiples (k = 1000). */
export const BITRATE_PATTERN = '^\\d+(?:\\.\\d+)?[kKmMgG]?(?:bps)?$';
/** `512k`, `4M`, `4MB`, `4MiB`, `1000000`. Binary multiples (k = 1024). */
export const SIZE_PATTERN = '^\\d+(?:\\.\\d+)?(?:[kKmMgG](?:i?B)?|B)?$';

const durationRe = new RegExp(DURATION_PATTERN);
const durationPartRe = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const rateRe = /^(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)?(ms|s|m|h|d)$/;
const bitrateRe = /^(\d+(?:\.\d+)?)([kKmMgG]?)(?:bps)?$/;
const sizeRe = /^(\d+(?:\.\d+)?)([kKmMgG]?)(?:i?B)?$/;

const DECIMAL: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };
const BINARY: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Thrown by the converters when a value slipped past (or was never checked against) the pattern. */
export class UnitError extends Error {}

/** Duration string (or a number of seconds) → milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new UnitError(`invalid duration ${value}`);
    return Math.round(value * 1000);
  }
  const text = value.trim();
  if (!durationRe.test(text)) throw new UnitError(`invalid duration "${value}"`);
  if (text === '0') return 0;
  let ms = 0;
  for (const m of text.matchAll(durationPartRe)) ms += Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
  return Math.round(ms);
}

/** Rate string (or a number per second) → events per second. */
export function parseRate(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new UnitError(`invalid rate ${value}`);
    return value;
  }
  const m = rateRe.exec(value.trim());
  if (!m) throw new UnitError(`invalid rate "${value}"`);
  const per = Number(m[2] ?? '1') * DURATION_UNITS_MS[m[3]!]!;
  if (per === 0) throw new UnitError(`invalid rate "${value}": zero period`);
  return (Number(m[1]) * 1000) / per;
}

/** Bitrate string (or a number of bit/s) → bit/s, decimal multiples. */
export function parseBitrate(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new UnitError(`invalid bitrate ${value}`);
    return Math.round(value);
  }
  const m = bitrateRe.exec(value.trim());
  if (!m) throw new UnitError(`invalid bitrate "${value}"`);
  return Math.round(Number(m[1]) * DECIMAL[m[2]!.toLowerCase()]!);
}

/** Byte size string (or a number of bytes) → bytes, binary multiples. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new UnitError(`invalid size ${value}`);
    return Math.round(value);
  }
  const m = sizeRe.exec(value.trim());
  if (!m) throw new UnitError(`invalid size "${value}"`);
  return Math.round(Number(m[1]) * BINARY[m[2]!.toLowerCase()]!);
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
