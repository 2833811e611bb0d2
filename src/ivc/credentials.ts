import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { AuthOptions } from './options.js';

/** One known device of a registry file. */
export interface RegistryEntry {
  login_code: string;
  password: string;
  disabled?: boolean;
}

/** What a login check decided; `status` is the HTTP status used to refuse the upgrade. */
export type LoginDecision = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/**
 * Compares two secrets in constant time. Hashing first makes both sides the same length, so
 * neither the content nor the length of the expected password leaks through timing.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Reads a registry file (JSON or YAML; a list or `{devices: [...]}`), with errors naming the file and entry. */
export function loadRegistryFile(path: string): RegistryEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read device registry ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const json = /\.json$/i.test(path);
  let value: unknown;
  try {
    value = json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new Error(
      `device registry ${path} is not valid ${json ? 'JSON' : 'YAML'}: ${syntaxErrorWhere(error, text)}`,
    );
  }
  return validateRegistry(value, path);
}

/**
 * Where a registry file fails to parse, without the parser's own message: both JSON and YAML
 * messages may quote the offending line, and that line may hold a password.
 */
function syntaxErrorWhere(error: unknown, text: string): string {
  const linePos = (error as { linePos?: Array<{ line: number; col: number }> }).linePos;
  if (linePos?.[0]) return `syntax error at line ${linePos[0].line}, column ${linePos[0].col}`;
  const position = /position (\d+)/.exec((error as Error).message);
  if (position) {
    const before = text.slice(0, Number(position[1]));
    const line = before.split('\n').length;
    return `syntax error at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
  }
  return 'syntax error';
}

export function validateRegistry(value: unknown, source = 'registry'): RegistryEntry[] {
  const list =
    value && typeof value === 'object' && !Array.isArray(value) && 'devices' in value
      ? (value as { devices: unknown }).devices
      : value;
  if (!Array.isArray(list))
    throw new Error(`${source}: expected a list of {login_code, password, disabled?}`);
  return list.map((item: unknown, i) => {
    const e = item as Partial<RegistryEntry> | null;
    if (!e || typeof e.login_code !== 'string' || e.login_code === '') {
      throw new Error(`${source}: entry ${i} needs a non-empty string login_code`);
    }
    // Never echo the password value itself in an error.
    if (typeof e.password !== 'string')
      throw new Error(`${source}: entry ${i} (${e.login_code}) needs a string password`);
    if (e.disabled !== undefined && typeof e.disabled !== 'boolean') {
      throw new Error(`${source}: entry ${i} (${e.login_code}): disabled must be true or false`);
    }
    return { login_code: e.login_code, password: e.password, disabled: e.disabled ?? false };
  });
}

/** Decides device logins from the configured shared password, login-code pattern and registry. */
export class CredentialChecker {
  private readonly password: string | null;
  private readonly pattern: RegExp | null;
  private readonly registry: Map<string, RegistryEntry> | null;

  constructor(auth: AuthOptions) {
    this.password = auth.password ?? null;
    const p = auth.loginCodePattern;
    this.pattern = p === undefined ? null : new RegExp(`^(?:${typeof p === 'string' ? p : p.source})$`);
    const entries = [...(auth.registry ? validateRegistry(auth.registry) : [])];
    if (auth.registryFile) entries.push(...loadRegistryFile(auth.registryFile));
    this.registry =
      auth.registry || auth.registryFile ? new Map(entries.map((e) => [e.login_code, e])) : null;
  }

  check(loginCode: string, password: string): LoginDecision {
    if (this.pattern && !this.pattern.test(loginCode)) {
      return { ok: false, status: 401, reason: 'login_code not accepted' };
    }
    // Every configured check runs, so timing does not tell which one failed.
    let ok = true;
    if (this.password !== null) ok = secretsEqual(password, this.password) && ok;
    let entry: RegistryEntry | undefined;
    if (this.registry) {
      entry = this.registry.get(loginCode);
      // Unknown codes still pay for one comparison.
      ok = secretsEqual(password, entry ? entry.password : '\u0000unknown') && entry !== undefined && ok;
    }
    if (!ok) return { ok: false, status: 401, reason: 'bad login_code or password' };
    if (entry?.disabled) return { ok: false, status: 403, reason: 'device disabled' };
    return { ok: true };
  }
}
