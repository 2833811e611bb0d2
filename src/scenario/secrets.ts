// Secrets of a scenario: the device password comes from an environment variable, a file, or a
// literal (where `${VAR}` is substituted). Whatever the source, the value never appears in a
// problem message, and `maskSecrets` hides it from everything echoed (reports, logs, --dry-run).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FieldProblem } from './errors.js';
import type { PasswordSource, Scenario } from './types.js';

export const MASK = '***';
/** Used with the embedded target when the scenario names no password (it configures both ends). */
export const DEFAULT_PASSWORD = 'ivtfarm';

export interface SecretContext {
  env: Readonly<Record<string, string | undefined>>;
  /** Relative `file:` paths are relative to the scenario file's directory. */
  baseDir: string;
}

export interface ResolvedPassword {
  password: string;
  source: PasswordSource;
}

const PATH = ['devices', 'password'];

/** `${VAR}` → its value; `$$` → `$`. Unset variables are problems (an empty password is rarely meant). */
function substitute(literal: string, env: SecretContext['env'], problems: FieldProblem[]): string {
  return literal.replace(/\$\$|\$\{([^}]*)\}/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push({
        path: PATH,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shows the user the ${VAR} syntax
        message: 'malformed ${…} reference',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: same
        expected: '${NAME} with a variable name',
      });
      return '';
    }
    const value = env[name];
    if (value === undefined) {
      problems.push({ path: PATH, message: `environment variable ${name} is not set` });
      return '';
    }
    return value;
  });
}

export function resolvePassword(
  raw: string | { env?: string; file?: string } | undefined,
  ctx: SecretContext,
  problems: FieldProblem[],
): ResolvedPassword {
  if (raw === undefined) return { password: DEFAULT_PASSWORD, source: { kind: 'default' } };
  if (typeof raw === 'string')
    return { password: substitute(raw, ctx.env, problems), source: { kind: 'literal' } };
  if ((raw.env === undefined) === (raw.file === undefined)) {
    problems.push({
      path: PATH,
      message: 'give exactly one of `env` and `file`',
      expected: '{ env: VAR } or { file: path }',
    });
    return { password: '', source: { kind: 'literal' } };
  }
  if (raw.env !== undefined) {
    const value = ctx.env[raw.env];
    if (value === undefined)
      problems.push({ path: [...PATH, 'env'], message: `environment variable ${raw.env} is not set` });
    return { password: value ?? '', source: { kind: 'env', name: raw.env } };
  }
  const path = resolve(ctx.baseDir, raw.file!);
  try {
    // A trailing newline is an artefact of `echo secret > file`, not part of the password.
    const password = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    return { password, source: { kind: 'file', path } };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    problems.push({ path: [...PATH, 'file'], message: `cannot read ${path} (${code})` });
    return { password: '', source: { kind: 'file', path } };
  }
}

/** Hides credentials in a ws(s) URL: `user:pass@` and a `login_passwd` query parameter. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = MASK;
    if (u.searchParams.has('login_passwd')) u.searchParams.set('login_passwd', MASK);
    return u.toString();
  } catch {
    return url;
  }
}

/** A deep copy of `scenario` that is safe to print, write to reports or send anywhere. */
export function maskSecrets(scenario: Scenario): Scenario {
  const copy = structuredClone(scenario);
  if (copy.devices.password !== '') copy.devices.password = MASK;
  if (copy.target.kind === 'remote') copy.target.url = maskUrl(copy.target.url);
  return copy;
}
