// Calls the platform's HTTP API: named actions through one undici Agent (keep-alive pools, at
// most `connections` per origin), a bearer token from the `auth:` login step sent with each call
// and refreshed before it expires or after a 401, every call timed into `api_duration{action}`
// and counted in `api_requests{action,status}`. No message it produces holds a secret.

import { Agent, request, errors as undiciErrors } from 'undici';
import {
  type ApiPlan,
  type ApiRequestTemplate,
  type ApiVars,
  AUTH_ACTION,
  type FilledRequest,
  fillRequest,
} from './actions.js';
import { captureValues, parseJsonPath, readJsonPath } from './capture.js';
import type { ApiObserver } from './metrics.js';
import { Redactor } from './redact.js';

/** What one action call got back. */
export interface ApiResult {
  /** HTTP status; 0 when no answer came (`outcome` says why). */
  status: number;
  outcome: 'ok' | 'http_error' | 'timeout' | 'error';
  durationMs: number;
  /** The answer: parsed JSON when it is JSON, else its text (cut at MAX_ANSWER_BYTES). */
  body: unknown;
  /** The action's `capture:` values found in the answer. */
  captured: Record<string, string | number>;
  /** Why it failed, secrets redacted (null when ok). */
  error: string | null;
}

/** The login step failed: wrong credentials, no token in the answer, platform unreachable. */
export class ApiAuthError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiAuthError';
  }
}

/** Answers are read up to this size (a list of streams is small; a runaway answer is cut). */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** A token is renewed this long before it expires (or at 90 % of a shorter lifetime)… */
const REFRESH_MARGIN_MS = 30_000;
/**
 * …but never less than this (or half a shorter lifetime): the run looks at its token once a
 * second for the HTTP load, so a short-lived token must be renewed while a second is still left.
 */
const MIN_REFRESH_MARGIN_MS = 2_000;

/** How long before its expiry a token of this lifetime is renewed. */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(
    REFRESH_MARGIN_MS,
    Math.max(lifetimeMs * 0.1, Math.min(lifetimeMs / 2, MIN_REFRESH_MARGIN_MS)),
  );
}

export interface ApiClientOptions {
  observer?: ApiObserver;
  /** Clock for token lifetimes (tests); default Date.now. */
  now?: () => number;
}

/**
 * One client per thread that calls the API. `call(name, vars)` never throws for an HTTP or
 * network failure — the result says what happened — only for a programming error (unknown
 * action, missing placeholder value).
 */
export class ApiClient {
  private readonly agent: Agent;
  private readonly redactor = new Redactor();
  private readonly now: () => number;
  private token: string | null = null;
  private tokenExpiresAt = Number.POSITIVE_INFINITY;
  private loggingIn: Promise<void> | null = null;
  /** Logins done (the first one included): tests and the summary read it. */
  logins = 0;

  constructor(
    readonly plan: ApiPlan,
    private readonly options: ApiClientOptions = {},
  ) {
    this.agent = new Agent({
      connections: plan.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: plan.timeoutMs,
      bodyTimeout: plan.timeoutMs,
    });
    this.now = options.now ?? Date.now;
    if (plan.auth) {
      this.redactor.addLeaves(plan.auth.request.body);
      for (const v of Object.values(plan.auth.request.headers)) this.redactor.add(v);
    }
  }

  /** `text` with every secret this client knows replaced by ***. */
  redact(text: string): string {
    return this.redactor.redact(text);
  }

  /** Logs in now (the preflight does, to fail before the run on a bad password). No-op without `auth:`. */
  async login(): Promise<void> {
    if (!this.plan.auth) return;
    this.loggingIn ??= this.doLogin().finally(() => {
      this.loggingIn = null;
    });
    await this.loggingIn;
  }

  /** Calls action `name` with `vars`; logs in first when the token is missing or about to expire. */
  async call(name: string, vars: ApiVars): Promise<ApiResult> {
    const action = this.plan.actions[name];
    if (!action) throw new Error(`no api action named ${name}`);
    let [result, tokenUsed] = await this.attempt(name, action, vars);
    if (result.status === 401 && this.plan.auth) {
      // The platform dropped the token early (restart, revocation): one fresh login, one retry.
      // Calls refused together log in once: only the first drops the token they all used.
      if (this.token === tokenUsed) this.token = null;
      [result] = await this.attempt(name, action, vars);
    }
    if (result.outcome === 'ok') {
      const { values, missing } = captureValues(result.body, action.capture);
      result.captured = values;
      if (missing.length > 0) {
        result.outcome = 'error';
        result.error = `the answer has no ${missing.join(', ')} (capture of action ${name})`;
      }
    }
    return result;
  }

  /** A token valid now (logging in when it is missing or about to expire); null without `auth:`. */
  async currentToken(): Promise<string | null> {
    if (!this.plan.auth) return null;
    await this.ensureToken();
    return this.token;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** One request with the current token (logging in first when needed); also says which token it sent. */
  private async attempt(
    name: string,
    action: ApiRequestTemplate,
    vars: ApiVars,
  ): Promise<[ApiResult, string | null]> {
    let headers: Record<string, string> = {};
    if (this.plan.auth) {
      try {
        await this.ensureToken();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return [failed('error', 0, `login failed: ${this.redact(message)}`), null];
      }
      headers = this.plan.auth.headers;
    }
    const token = this.token;
    const all = token === null ? vars : { ...vars, token };
    return [await this.send(name, fillRequest(action, all, this.plan.baseUrl, headers)), token];
  }

  private async ensureToken(): Promise<void> {
    if (this.token !== null && this.now() < this.tokenExpiresAt) return;
    await this.login();
  }

  private async doLogin(): Promise<void> {
    const auth = this.plan.auth!;
    const filled = fillRequest(auth.request, {}, this.plan.baseUrl);
    const where = `${filled.method} ${filled.url}`;
    const result = await this.send(AUTH_ACTION, filled);
    if (result.outcome !== 'ok') {
      const why = result.status > 0 ? `answered ${result.status}` : 'got no answer';
      throw new ApiAuthError(`api.auth: ${where} ${why}: ${result.error}`, result.status);
    }
    const token = readJsonPath(result.body, parseJsonPath(auth.tokenPath));
    if (typeof token !== 'string' || token === '')
      throw new ApiAuthError(
        `api.auth: the answer of ${where} has no token at ${auth.tokenPath}`,
        result.status,
      );
    this.redactor.add(token);
    const expiresIn =
      auth.expiresInPath === null ? undefined : readJsonPath(result.body, parseJsonPath(auth.expiresInPath));
    const lifetimeMs = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn * 1000 : auth.ttlMs;
    const now = this.now();
    this.tokenExpiresAt =
      lifetimeMs === null ? Number.POSITIVE_INFINITY : now + lifetimeMs - refreshMarginMs(lifetimeMs);
    this.token = token;
    this.logins++;
  }

  private async send(action: string, req: FilledRequest): Promise<ApiResult> {
    const started = performance.now();
    const observe = this.options.observer;
    try {
      const answer = await request(req.url, {
        dispatcher: this.agent,
        method: req.method as 'GET',
        headers: req.headers,
        body: req.body,
      });
      const text = await readCapped(answer.body);
      const durationMs = performance.now() - started;
      observe?.requestDone(action, answer.statusCode, durationMs);
      const body = parseAnswer(text);
      const ok = answer.statusCode >= 200 && answer.statusCode < 300;
      return {
        status: answer.statusCode,
        outcome: ok ? 'ok' : 'http_error',
        durationMs,
        body,
        captured: {},
        error: ok ? null : this.redact(errorText(body)),
      };
    } catch (error) {
      const durationMs = performance.now() - started;
      const timeout =
        error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError;
      observe?.requestDone(action, timeout ? 'timeout' : 'error', durationMs);
      const message = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      return failed(timeout ? 'timeout' : 'error', durationMs, this.redact(String(message)));
    }
  }
}

function failed(outcome: 'timeout' | 'error', durationMs: number, error: string): ApiResult {
  return { status: 0, outcome, durationMs, body: null, captured: {}, error };
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_ANSWER_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}

function parseAnswer(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A short reason from an error answer: its `error`/`message` field, or the start of its text. */
function errorText(body: unknown): string {
  if (body !== null && typeof body === 'object') {
    const o = body as Record<string, unknown>;
    for (const k of ['error', 'message', 'detail'])
      if (typeof o[k] === 'string') return (o[k] as string).slice(0, 200);
    return JSON.stringify(body).slice(0, 200);
  }
  return String(body ?? '(empty answer)').slice(0, 200);
}
