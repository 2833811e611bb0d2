// Unit strings of scenario files: durations, rates, bitrates and byte sizes. Each has a regular
// expression (used as the schema's `pattern`, so a bad value is reported with its line) and a
// converter that turns an already-validated value into plain numbers. Durations come from
// duration.ts, the one duration grammar (shared with threshold options).

import { UnitError, unitMs } from './duration.js';

/** `100/s`, `1/15m`, `2.5/100ms`. */
export const RATE_PATTERN = '^\\d+(?:\\.\\d+)?\\s*/\\s*(?:\\d+(?:\\.\\d+)?)?(?:ms|s|m|h|d)$';
/** `256k`, `2M`, `1.5M`, `2000000`, optionally followed by `bps`. Decimal multiples (k = 1000). */
export const BITRATE_PATTERN = '^\\d+(?:\\.\\d+)?[kKmMgG]?(?:bps)?$';
/** `512k`, `4M`, `4MB`, `4MiB`, `1000000`. Binary multiples (k = 1024). */
export const SIZE_PATTERN = '^\\d+(?:\\.\\d+)?(?:[kKmMgG](?:i?B)?|B)?$';

const rateRe = /^(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)?(ms|s|m|h|d)$/;
const bitrateRe = /^(\d+(?:\.\d+)?)([kKmMgG]?)(?:bps)?$/;
const sizeRe = /^(\d+(?:\.\d+)?)([kKmMgG]?)(?:i?B)?$/;

const DECIMAL: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };
const BINARY: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Rate string (or a number per second) → events per second. */
export function parseRate(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new UnitError(`invalid rate ${value}`);
    return value;
  }
  const m = rateRe.exec(value.trim());
  if (!m) throw new UnitError(`invalid rate "${value}"`);
  const per = Number(m[2] ?? '1') * unitMs(m[3]!);
  if (per === 0) throw new UnitError(`invalid rate "${value}": zero period`);
  return (Number(m[1]) * 1000) / per;
}

/** A number with an optional k/M/G multiple (`re` captures number and letter) → a whole number. */
function scaled(
  value: string | number,
  re: RegExp,
  multiples: Record<string, number>,
  what: 'bitrate' | 'size',
): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new UnitError(`invalid ${what} ${value}`);
    return Math.round(value);
  }
  const m = re.exec(value.trim());
  const multiple = m ? multiples[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || multiple === undefined) throw new UnitError(`invalid ${what} "${value}"`);
  return Math.round(Number(m[1]) * multiple);
}

/** Bitrate string (or a number of bit/s) → bit/s, decimal multiples. */
export function parseBitrate(value: string | number): number {
  return scaled(value, bitrateRe, DECIMAL, 'bitrate');
}

/** Byte size string (or a number of bytes) → bytes, binary multiples. */
export function parseSize(value: string | number): number {
  return scaled(value, sizeRe, BINARY, 'size');
}
