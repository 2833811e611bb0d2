// `api:` — the platform's own HTTP API. A schema-valid block becomes an ApiPlan; the checks a
// schema cannot express are made here, each problem at the field it concerns (so the loader
// names file, field and line): action names, URLs, JSON paths, and every `{placeholder}` —
// a typo such as `{chanel}` is caught before the run, with a suggestion.

import type { ApiAction, ApiAuth, ApiPlan, ApiRequestTemplate } from '../api/actions.js';
import { AUTH_ACTION, CHANNEL_PLACEHOLDERS, placeholdersOf } from '../api/actions.js';
import { JsonPathError, parseJsonPath } from '../api/capture.js';
import { closest } from '../core/suggest.js';
import type { PathSegment } from './locate.js';
import type { ScenarioFile } from './schema.js';

type RawApi = NonNullable<ScenarioFile['api']>;
type RawRequest = NonNullable<RawApi['auth']>['request'];

/** What the normalizer lends this step: problems at a field path, durations checked. */
export interface ApiNormalizer {
  problem(path: PathSegment[], message: string, expected?: string, anchor?: 'key'): void;
  duration(value: string | number, path: PathSegment[]): number;
}

const ACTION_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECTIONS = 64;

export function normalizeApi(raw: RawApi, n: ApiNormalizer): ApiPlan {
  const baseUrl = raw.base_url ?? null;
  const captured = new Set<string>();
  for (const a of Object.values(raw.actions))
    for (const name of Object.keys(a.capture ?? {})) captured.add(name);
  const tokenNames = raw.auth ? ['token'] : [];
  // Channel values, the token, and whatever an action captures (kept per channel for later actions).
  const known = [...CHANNEL_PLACEHOLDERS, ...tokenNames, ...captured];
  const actions: Record<string, ApiAction> = {};
  for (const [name, a] of Object.entries(raw.actions)) {
    const path: PathSegment[] = ['api', 'actions', name];
    if (!ACTION_NAME.test(name) || name === AUTH_ACTION) {
      n.problem(
        path,
        name === AUTH_ACTION ? '`auth` names the login step' : 'not usable as an action name',
        'a name of letters, digits and _ (starting with a letter), other than auth',
        'key',
      );
    }
    const capture: Record<string, string> = {};
    for (const [c, jsonPath] of Object.entries(a.capture ?? {})) {
      checkJsonPath(jsonPath, [...path, 'capture', c], n);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c))
        n.problem(
          [...path, 'capture', c],
          'not usable as a placeholder name',
          'letters, digits and _',
          'key',
        );
      capture[c] = jsonPath;
    }
    actions[name] = { name, ...request(a, path, baseUrl, known, n), capture };
  }
  return {
    baseUrl,
    connections: raw.connections ?? DEFAULT_CONNECTIONS,
    timeoutMs: raw.timeout !== undefined ? n.duration(raw.timeout, ['api', 'timeout']) : DEFAULT_TIMEOUT_MS,
    auth: raw.auth ? auth(raw.auth, baseUrl, n) : null,
    actions,
  };
}

function auth(raw: NonNullable<RawApi['auth']>, baseUrl: string | null, n: ApiNormalizer): ApiAuth {
  const path: PathSegment[] = ['api', 'auth'];
  checkJsonPath(raw.token, [...path, 'token'], n);
  if (raw.expires_in !== undefined) checkJsonPath(raw.expires_in, [...path, 'expires_in'], n);
  const headers = raw.headers ?? { Authorization: 'Bearer {token}' };
  checkPlaceholders(headers, [...path, 'headers'], ['token'], n);
  if (!placeholdersOf(headers).has('token'))
    n.problem(
      [...path, 'headers'],
      'no header carries the token',
      'a header such as Authorization: Bearer {token}',
    );
  return {
    // The login request is sent before any channel exists: it takes no placeholder.
    request: request(raw.request, [...path, 'request'], baseUrl, [], n),
    tokenPath: raw.token,
    expiresInPath: raw.expires_in ?? null,
    ttlMs: raw.ttl !== undefined ? n.duration(raw.ttl, [...path, 'ttl']) : null,
    headers,
  };
}

function request(
  raw: RawRequest,
  path: PathSegment[],
  baseUrl: string | null,
  known: readonly string[],
  n: ApiNormalizer,
): ApiRequestTemplate {
  const absolute = /^https?:\/\//.test(raw.url);
  if (!absolute && (baseUrl === null || !raw.url.startsWith('/'))) {
    n.problem(
      [...path, 'url'],
      baseUrl === null ? 'a path needs `api.base_url`' : 'neither an http(s):// URL nor a path',
      'http://host:port/path, or /path with api.base_url',
    );
  }
  checkPlaceholders(raw.url, [...path, 'url'], known, n);
  checkPlaceholders(raw.headers ?? {}, [...path, 'headers'], known, n);
  if (raw.body !== undefined) checkPlaceholders(raw.body, [...path, 'body'], known, n);
  return {
    method: raw.method ?? (raw.body !== undefined ? 'POST' : 'GET'),
    url: raw.url,
    headers: raw.headers ?? {},
    body: raw.body ?? null,
  };
}

/** Every `{name}` in `value` must be known; the problem sits at the string (or key) that has it. */
function checkPlaceholders(
  value: unknown,
  path: PathSegment[],
  known: readonly string[],
  n: ApiNormalizer,
): void {
  if (typeof value === 'string') {
    for (const name of placeholdersOf(value)) {
      if (known.includes(name)) continue;
      const guess = closest(name, known);
      n.problem(
        path,
        `unknown placeholder {${name}}${guess ? ` (did you mean {${guess}}?)` : ''}`,
        known.length > 0 ? `one of ${known.map((k) => `{${k}}`).join(', ')}` : 'no placeholder here',
      );
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      checkPlaceholders(v, [...path, i], known, n);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (placeholdersOf(k).size > 0) checkPlaceholders(k, [...path, k], known, n);
      checkPlaceholders(v, [...path, k], known, n);
    }
  }
}

function checkJsonPath(path: string, at: PathSegment[], n: ApiNormalizer): void {
  try {
    parseJsonPath(path);
  } catch (error) {
    if (!(error instanceof JsonPathError)) throw error;
    n.problem(at, error.message, 'a JSON path such as $.token or $.data[0].id');
  }
}
