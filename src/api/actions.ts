// The platform's own HTTP API as the scenario describes it (`api:`): named actions — method, URL,
// headers, body — whose strings hold `{name}` placeholders, filled per call from the device and
// channel (`{login_code}`, `{channel}`, `{quality}`), the auth token (`{token}`) and values
// captured from earlier answers. Plain data, so it crosses worker_threads unchanged.

/** One HTTP request as written: every string may hold `{name}` placeholders. */
export interface ApiRequestTemplate {
  method: string;
  /** Absolute, or a path resolved against `ApiPlan.baseUrl`. */
  url: string;
  headers: Record<string, string>;
  /** Sent as JSON (objects, arrays, numbers) or as text (a string); null: no body. */
  body: unknown;
}

export interface ApiAction extends ApiRequestTemplate {
  name: string;
  /** Values taken from the answer (JSON path, `$.a.b[0]`), by the name later templates use. */
  capture: Record<string, string>;
}

/** The login step: its answer's token is captured, sent in `headers` of every action, refreshed. */
export interface ApiAuth {
  request: ApiRequestTemplate;
  /** JSON path of the token in the login answer. */
  tokenPath: string;
  /** JSON path of the token's lifetime in seconds in the answer (null: `ttlMs` or never). */
  expiresInPath: string | null;
  /** Fixed lifetime when the answer does not say (null: until a 401). */
  ttlMs: number | null;
  /** Headers added to every action; `{token}` is the current token. */
  headers: Record<string, string>;
}

/** The `api:` block, resolved. */
export interface ApiPlan {
  /** Base of relative action URLs (null: every URL is absolute). */
  baseUrl: string | null;
  /** Keep-alive connections per origin. */
  connections: number;
  /** A request that has no complete answer within this time counts as `status: timeout`. */
  timeoutMs: number;
  auth: ApiAuth | null;
  actions: Record<string, ApiAction>;
}

/** Values a template is filled with. */
export type ApiVars = Readonly<Record<string, string | number>>;

/** Placeholders every action may use when the farm calls it for a channel. */
export const CHANNEL_PLACEHOLDERS = ['login_code', 'channel', 'quality'] as const;
/** The action name its metrics carry for the login request. */
export const AUTH_ACTION = 'auth';

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

export class TemplateFillError extends Error {
  constructor(readonly placeholder: string) {
    super(`no value for placeholder {${placeholder}}`);
    this.name = 'TemplateFillError';
  }
}

/** The placeholder names in every string of `value` (keys of objects included). */
export function placeholdersOf(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    for (const m of value.matchAll(PLACEHOLDER)) into.add(m[1]!);
  } else if (Array.isArray(value)) {
    for (const v of value) placeholdersOf(v, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      placeholdersOf(k, into);
      placeholdersOf(v, into);
    }
  }
  return into;
}

/** `text` with each `{name}` replaced; `encode` applies to each value (URL paths). */
export function fillText(text: string, vars: ApiVars, encode: (s: string) => string = (s) => s): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new TemplateFillError(name);
    return encode(String(v));
  });
}

/**
 * A JSON body with its placeholders filled. A string that is exactly one placeholder takes the
 * value's own type (`channel: "{channel}"` sends the number), so bodies stay typed.
 */
export function fillBody(body: unknown, vars: ApiVars): unknown {
  if (typeof body === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(body);
    if (whole) {
      const v = vars[whole[1]!];
      if (v === undefined) throw new TemplateFillError(whole[1]!);
      return v;
    }
    return fillText(body, vars);
  }
  if (Array.isArray(body)) return body.map((v) => fillBody(v, vars));
  if (body !== null && typeof body === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) out[fillText(k, vars)] = fillBody(v, vars);
    return out;
  }
  return body;
}

/** A request ready to send: URL resolved, placeholders filled (path values URL-encoded). */
export interface FilledRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Already serialised; null: none. */
  body: string | null;
}

export function fillRequest(
  template: ApiRequestTemplate,
  vars: ApiVars,
  baseUrl: string | null,
  extraHeaders: Record<string, string> = {},
): FilledRequest {
  const path = fillText(template.url, vars, encodeURIComponent);
  const url = baseUrl === null ? path : new URL(path, baseUrl).toString();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...extraHeaders, ...template.headers }))
    headers[k.toLowerCase()] = fillText(v, vars);
  let body: string | null = null;
  if (template.body !== null && template.body !== undefined) {
    const filled = fillBody(template.body, vars);
    if (typeof filled === 'string') {
      body = filled;
      headers['content-type'] ??= 'text/plain; charset=utf-8';
    } else {
      body = JSON.stringify(filled);
      headers['content-type'] ??= 'application/json';
    }
  }
  return { method: template.method, url, headers, body };
}
