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

/** Header and variable names whose values are credentials (`Authorization`, `X-Api-Key`, `API_TOKEN`). */
const SECRET_NAME = /authorization|cookie|token|secret|passw|api[-_]?key/i;
/** A request body that carries credentials (a login's password) is masked whole. */
const SECRET_BODY = /passw|secret|token/i;

function maskHttpLoad(copy: Scenario): void {
  for (const load of copy.httpLoad) {
    if (load.send.kind !== 'requests') continue;
    for (const r of load.send.requests) {
      for (const name of Object.keys(r.headers)) if (SECRET_NAME.test(name)) r.headers[name] = MASK;
      if (r.body !== null && SECRET_BODY.test(r.body)) r.body = MASK;
    }
  }
  if (copy.k6)
    for (const name of Object.keys(copy.k6.env)) if (SECRET_NAME.test(name)) copy.k6.env[name] = MASK;
}

/** A deep copy of `scenario` that is safe to print, write to reports or send anywhere. */
export function maskSecrets(scenario: Scenario): Scenario {
  const copy = structuredClone(scenario);
  maskHttpLoad(copy);
  if (copy.devices.password !== '') copy.devices.password = MASK;
  if (copy.target.kind === 'remote') {
    copy.target.url = maskUrl(copy.target.url);
    copy.target.urls = copy.target.urls.map(maskUrl);
  }
  copy.parameters.overrides = maskOverrides(copy.parameters.overrides);
  if (copy.api) {
    const auth = copy.api.auth;
    // The login body holds the user's credentials; header values may be keys. A header that only
    // places a value (`Bearer {token}`) is kept: it shows how the token is sent, not the token.
    if (auth) {
      auth.request.body = maskLeaves(auth.request.body);
      auth.request.headers = maskHeaders(auth.request.headers);
    }
    for (const action of Object.values(copy.api.actions)) action.headers = maskHeaders(action.headers);
  }
  return copy;
}

function maskLeaves(value: unknown): unknown {
  if (typeof value === 'string' || typeof value === 'number') return MASK;
  if (Array.isArray(value)) return value.map(maskLeaves);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskLeaves(v)]));
  return value;
}

const PLACED_ONLY = /^(?:[A-Za-z-]+ )?\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const HARMLESS_HEADERS = new Set(['content-type', 'accept', 'user-agent', 'accept-language']);

function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [
      k,
      PLACED_ONLY.test(v) || HARMLESS_HEADERS.has(k.toLowerCase()) ? v : MASK,
    ]),
  );
}
