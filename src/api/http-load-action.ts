// An `api:` action as the HTTP load sends it (src/http-load): one request, the same for every
// connection — no device or channel — with the auth step's headers. `{token}` stays a placeholder
// that the load fills per request from the run's current token, so a token refreshed during the
// load reaches its requests.

import type { HttpRequestSpec } from '../scenario/types.js';
import { type ApiPlan, CHANNEL_PLACEHOLDERS, placeholdersOf } from './actions.js';

/** The channel placeholders an action uses (an HTTP load cannot fill them). */
export function channelPlaceholdersOf(plan: ApiPlan, name: string): string[] {
  const action = plan.actions[name];
  if (!action) return [];
  const used = placeholdersOf([action.url, action.headers, action.body]);
  return CHANNEL_PLACEHOLDERS.filter((p) => used.has(p));
}

/** Braces the URL parser escaped, back as placeholders. */
const unescapeBraces = (s: string): string => s.replace(/%7B/gi, '{').replace(/%7D/gi, '}');

export function actionRequests(
  plan: ApiPlan,
  name: string,
): { origin: string | null; requests: HttpRequestSpec[] } {
  const action = plan.actions[name];
  if (!action) throw new Error(`no api action named ${name}`);
  const url = plan.baseUrl === null ? new URL(action.url) : new URL(action.url, plan.baseUrl);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...(plan.auth?.headers ?? {}), ...action.headers }))
    headers[k.toLowerCase()] = v;
  let body: string | null = null;
  if (action.body !== null && action.body !== undefined) {
    body = typeof action.body === 'string' ? action.body : JSON.stringify(action.body);
    headers['content-type'] ??=
      typeof action.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  }
  return {
    origin: url.origin,
    requests: [
      {
        method: action.method,
        path: unescapeBraces(url.pathname + url.search),
        headers,
        body,
        capture: action.capture,
      },
    ],
  };
}
