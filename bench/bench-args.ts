// Helpers shared by the bench scripts: commander argument parsers and process CPU from /proc.
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { isQuality, type Quality } from '../src/media/catalogue.js';

export function int(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`an integer ${min}–${max}`);
    return n;
  };
}

export function oneOf<T extends string>(values: readonly T[]) {
  return (v: string): T => {
    if (!(values as readonly string[]).includes(v))
      throw new InvalidArgumentError(`one of ${values.join(', ')}`);
    return v as T;
  };
}

export function quality(v: string): Quality {
  if (!isQuality(v)) throw new InvalidArgumentError('ld, sd, hd or fhd');
  return v;
}

/** utime + stime of a process, seconds (Linux /proc). */
export async function procCpuSeconds(pid: number, clkTck: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clkTck; // fields 14, 15 of stat(5)
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
