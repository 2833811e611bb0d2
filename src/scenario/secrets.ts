// Secrets of a scenario: the device password comes from an environment variable, a file, or a
// literal (where `${VAR}` was substituted by the loader, as in every string). Whatever the
// source, the value never appears in a problem message, and `maskSecrets` hides it from
// everything echoed (reports, logs, --dry-run).
import { resolve } from 'node:path';
import type { FieldProblem } from './errors.js';
import { FileReadError, readRegularFile } from './files.js';
import type { Parameters, PasswordSource, Scenario } from './types.js';

export const MASK = '***';
/** Used with the embedded target when the scenario names no password (it configures both ends). */
export const DEFAULT_PASSWORD = 'ivtfarm';
/** A password file is a few bytes; anything bigger is not one (and is not read into memory). */
export const MAX_PASSWORD_FILE_BYTES = 64 * 1024;

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

export function resolvePassword(
  raw: string | { env?: string; file?: string } | undefined,
  ctx: SecretContext,
  problems: FieldProblem[],
): ResolvedPassword {
  if (raw === undefined) return { password: DEFAULT_PASSWORD, source: { kind: 'default' } };
  if (typeof raw === 'string') return { password: raw, source: { kind: 'literal' } };
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
    const password = readRegularFile(path, MAX_PASSWORD_FILE_BYTES).replace(/\r?\n$/, '');
    return { password, source: { kind: 'file', path } };
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    problems.push({ path: [...PATH, 'file'], message: `${path} ${err.message}` });
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

/** `--set` overrides as they may be shown: a password is masked, credentials in a URL too. */
export function maskOverrides(overrides: Parameters['overrides']): Parameters['overrides'] {
  return overrides.map(({ path, value }) => {
    if (path.startsWith('devices.password')) return { path, value: MASK };
    if ((path === 'target' || path === 'target.url') && typeof value === 'string')
      return { path, value: maskUrl(value) };
    return { path, value };
  });
}

/** A deep copy of `scenario` that is safe to print, write to reports or send anywhere. */
export function maskSecrets(scenario: Scenario): Scenario {
  const copy = structuredClone(scenario);
  if (copy.devices.password !== '') copy.devices.password = MASK;
  if (copy.target.kind === 'remote') {
    copy.target.url = maskUrl(copy.target.url);
    copy.target.urls = copy.target.urls.map(maskUrl);
  }
  copy.parameters.overrides = maskOverrides(copy.parameters.overrides);
  return copy;
}
