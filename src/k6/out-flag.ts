// `ivtfarm run --out …`: a results directory (as always), or an output in k6's `--out TYPE=FILE`
// form. The only type is `k6-json` (k6's JSON lines); the flag may be given more than once.

import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface RunOutputs {
  dir?: string;
  k6Json?: string;
}

export const OUT_TYPES = ['k6-json'] as const;

/** Reads every `--out` value; throws an Error whose message names the bad value. */
export function parseOutFlags(values: readonly string[]): RunOutputs {
  const out: RunOutputs = {};
  for (const v of values) {
    const m = /^([a-z][a-z0-9-]*)=(.*)$/.exec(v);
    if (!m) {
      if (out.dir !== undefined) throw new Error(`--out: two results directories (${out.dir}, ${v})`);
      out.dir = v;
      continue;
    }
    const [, type, file] = m as unknown as [string, string, string];
    if (!(OUT_TYPES as readonly string[]).includes(type))
      throw new Error(`--out ${v}: unknown output type "${type}" (known: ${OUT_TYPES.join(', ')})`);
    if (file === '') throw new Error(`--out ${v}: needs a file, e.g. --out k6-json=results.json`);
    if (out.k6Json !== undefined) throw new Error(`--out: k6-json given twice`);
    out.k6Json = file;
  }
  return out;
}

/** A file the run will write at its end or while it goes: its directory must exist now. */
export function checkWritableFile(flag: string, file: string): void {
  const dir = dirname(resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new Error(`${flag} ${file}: the directory ${dir} does not exist`);
  if (existsSync(file) && statSync(file).isDirectory()) throw new Error(`${flag} ${file}: is a directory`);
}
