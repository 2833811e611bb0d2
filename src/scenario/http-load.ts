// `http_load:` blocks as written → HttpLoadPlan: one request or a sequence (or an `api:` action),
// connections, a rate or stages of rates, when it starts and how long it runs. Cross-field rules a
// schema cannot say are problems on the field they concern.
import { parseRate } from '../core/units.js';
import type { PathSegment } from './locate.js';
import type { ScenarioFile } from './schema.js';
import type { HttpLoadPlan, HttpLoadRequests, HttpRequestSpec } from './types.js';

type RawHttpLoad = NonNullable<ScenarioFile['http_load']>[number];

/** What the scenario normalizer lends: located problems and unit conversions. */
export interface FieldReader {
  problem(path: PathSegment[], message: string, expected?: string, anchor?: 'key'): void;
  duration(value: string | number, path: PathSegment[]): number;
  unit(parse: (v: string | number) => number, value: string | number, path: PathSegment[]): number;
}

export const HTTP_LOAD_DEFAULTS = { connections: 10, timeoutMs: 10_000 } as const;

/** Names the `api:` block defines; null while a scenario has none (the action cannot resolve). */
export type ApiActionNames = ReadonlySet<string> | null;

/** The URL as written, parsed; null (and a problem) when it is not one. */
function parsedUrl(url: string, at: PathSegment[], fields: FieldReader): URL | null {
  if (url.startsWith('/')) return null;
  try {
    return new URL(url);
  } catch {
    fields.problem([...at, 'url'], 'not a valid URL', 'http://host:port/path, or a path such as /api/stats');
    return null;
  }
}

/** The path and query of the URL, or the path itself. */
function pathOf(url: string, parsed: URL | null): string {
  if (url.startsWith('/')) return url;
  return parsed ? `${parsed.pathname}${parsed.search}` : '/';
}

function requestsOf(
  h: RawHttpLoad,
  parsed: URL | null,
  at: PathSegment[],
  fields: FieldReader,
): HttpRequestSpec[] {
  if (h.requests) {
    for (const k of ['method', 'headers', 'body'] as const) {
      if (h[k] !== undefined)
        fields.problem([...at, k], 'give it on each of `requests`, not beside them', undefined, 'key');
    }
    return h.requests.map((r) => ({
      method: r.method ?? 'GET',
      path: r.path,
      headers: r.headers ?? {},
      body: r.body ?? null,
      capture: r.capture ?? {},
    }));
  }
  return [
    {
      method: h.method ?? 'GET',
      path: h.url ? pathOf(h.url, parsed) : '/',
      headers: h.headers ?? {},
      body: h.body ?? null,
      capture: {},
    },
  ];
}

function sendOf(
  h: RawHttpLoad,
  parsed: URL | null,
  at: PathSegment[],
  fields: FieldReader,
  actions: ApiActionNames,
): HttpLoadRequests {
  if (h.action !== undefined) {
    for (const k of ['url', 'method', 'headers', 'body', 'requests'] as const) {
      if (h[k] !== undefined)
        fields.problem(
          [...at, k],
          'give either `action` or a request of its own, not both',
          undefined,
          'key',
        );
    }
    if (actions === null)
      fields.problem([...at, 'action'], 'names an action, but the scenario has no `api:` block', 'a `url`');
    else if (!actions.has(h.action))
      fields.problem(
        [...at, 'action'],
        `no action "${h.action}" in the \`api:\` block`,
        [...actions].join(', '),
      );
    return { kind: 'action', action: h.action };
  }
  if (h.url === undefined) {
    fields.problem(at, 'missing required field `url` (or `action`)', '{ url: /api/stats, rate: 100/s }');
  }
  return { kind: 'requests', requests: requestsOf(h, parsed, at, fields) };
}

/** autocannon counts its timeout in whole seconds, at least one. */
function timeoutOf(h: RawHttpLoad, at: PathSegment[], fields: FieldReader): number {
  if (h.timeout === undefined) return HTTP_LOAD_DEFAULTS.timeoutMs;
  const ms = fields.duration(h.timeout, [...at, 'timeout']);
  if (ms < 1000)
    fields.problem([...at, 'timeout'], 'is shorter than 1s (the shortest autocannon waits)', 'at least 1s');
  return ms;
}

/**
 * The `http_load:` blocks of a scenario. `loadMs` is how long the device load runs (a block runs
 * as long unless it says otherwise); `stepped` is true with `capacity: { mode: api_rate }`.
 */
export function normalizeHttpLoad(
  raw: ScenarioFile['http_load'],
  fields: FieldReader,
  loadMs: number,
  stepped: boolean,
  actions: ApiActionNames = null,
): HttpLoadPlan[] {
  const names = new Set<string>();
  const plans = (raw ?? []).map((h, i): HttpLoadPlan => {
    const at: PathSegment[] = ['http_load', i];
    const parsed = h.url === undefined ? null : parsedUrl(h.url, at, fields);
    const name = h.name ?? `load-${i + 1}`;
    if (names.has(name)) fields.problem([...at, 'name'], `"${name}" names an earlier load too`);
    names.add(name);
    const stages = (h.stages ?? []).map((s, k) => ({
      durationMs: fields.duration(s.duration, [...at, 'stages', k, 'duration']),
      target: fields.unit(parseRate, s.target, [...at, 'stages', k, 'target']),
    }));
    const rate = h.rate !== undefined ? fields.unit(parseRate, h.rate, [...at, 'rate']) : null;
    // autocannon sends whole requests per second: a rate between 0 and 1/s would round to nothing.
    const tooSlow = (r: number, path: PathSegment[]) => {
      if (r > 0 && r < 1) fields.problem(path, 'below 1 request per second', 'at least 1/s, or 0 to pause');
    };
    if (rate !== null) tooSlow(rate, [...at, 'rate']);
    for (const [k, s] of stages.entries()) tooSlow(s.target, [...at, 'stages', k, 'target']);
    const startMs = h.start !== undefined ? fields.duration(h.start, [...at, 'start']) : 0;
    const durationMs =
      h.duration !== undefined
        ? fields.duration(h.duration, [...at, 'duration'])
        : stages.length > 0
          ? stages.reduce((n, s) => n + s.durationMs, 0)
          : Math.max(0, loadMs - startMs);
    if (durationMs <= 0)
      fields.problem([...at, 'duration'], 'must be longer than 0', 'a duration such as 60s');
    if (loadMs > 0 && startMs >= loadMs)
      fields.problem([...at, 'start'], 'at or after the end of the load', `before ${loadMs / 1000}s`);
    return {
      name,
      origin: parsed?.origin ?? null,
      send: sendOf(h, parsed, at, fields, actions),
      connections: h.connections ?? HTTP_LOAD_DEFAULTS.connections,
      rate,
      stages,
      steppedByCapacity: stepped && rate === null && stages.length === 0,
      startMs,
      durationMs,
      timeoutMs: timeoutOf(h, at, fields),
    };
  });
  if (stepped && !plans.some((p) => p.steppedByCapacity)) {
    fields.problem(
      ['capacity', 'mode'],
      '`api_rate` steps the rate of an `http_load` entry that gives neither `rate` nor `stages`; there is none',
      'http_load: [{ url: /api/stats }]',
    );
  }
  return plans;
}
