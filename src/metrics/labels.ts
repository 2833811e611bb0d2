// Label keys, label-value hygiene and the canonical series key `name{k:v,k2:v2}` (k6's notation).
// Keys are built once per handle, never per recorded sample.

/** The fixed set of label keys any metric may use (order = canonical order inside a series key). */
export const LABEL_KEYS = [
  'state',
  'result',
  'reason',
  'method',
  'direction',
  'code',
  'type',
  'event',
  'kind',
  'quality',
  'worker',
  /** A platform API action (`api.actions` name, or `auth`). */
  'action',
  /** HTTP status code of an answer (`timeout`, `network` when none came): API actions and HTTP load. */
  'status',
  /** The device's mix entry (`devices.mix[].name`); last, so existing series keys keep their prefix. */
  'mix',
  /** An `http_load:` block's name (src/http-load), or `k6` for what a k6 script measured. */
  'load',
  /** A k6 custom metric's own name (src/k6). */
  'metric',
] as const;

export type LabelKey = (typeof LABEL_KEYS)[number];
export type Labels = Partial<Record<LabelKey, string>>;
export type LabelInput = Partial<Record<LabelKey, string | number>>;

const KEY_ORDER: ReadonlyMap<string, number> = new Map(LABEL_KEYS.map((k, i) => [k, i]));

export function isLabelKey(key: string): key is LabelKey {
  return KEY_ORDER.has(key);
}

const VALUE_OK = /^[A-Za-z0-9_./-]{1,64}$/;

/**
 * Label values end up in JSON keys, k6 filters and Prometheus labels, and some come from the
 * platform (method or event names): keep them to a safe alphabet and length.
 */
export function cleanLabelValue(value: string | number): string {
  const s = String(value);
  if (VALUE_OK.test(s)) return s;
  const cleaned = s.replace(/[^A-Za-z0-9_./-]/g, '_').slice(0, 64);
  return cleaned === '' ? '_' : cleaned;
}

/** Canonical series key; labels are sorted by LABEL_KEYS order and values cleaned. */
export function seriesKey(name: string, labels?: LabelInput): string {
  if (!labels) return name;
  const parts: string[] = [];
  for (const k of LABEL_KEYS) {
    const v = labels[k];
    if (v !== undefined) parts.push(`${k}:${cleanLabelValue(v)}`);
  }
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

export interface ParsedSeriesKey {
  name: string;
  labels: Labels;
}

const keyCache = new Map<string, ParsedSeriesKey>();

/** Inverse of seriesKey (valid because cleaned values never contain `{`, `}`, `,` or `:`). */
export function parseSeriesKey(key: string): ParsedSeriesKey {
  const cached = keyCache.get(key);
  if (cached) return cached;
  const brace = key.indexOf('{');
  let parsed: ParsedSeriesKey;
  if (brace < 0) {
    parsed = { name: key, labels: {} };
  } else {
    const labels: Labels = {};
    for (const pair of key.slice(brace + 1, -1).split(',')) {
      const colon = pair.indexOf(':');
      const k = pair.slice(0, colon);
      if (isLabelKey(k)) labels[k] = pair.slice(colon + 1);
    }
    parsed = { name: key.slice(0, brace), labels };
  }
  if (keyCache.size < 10_000) keyCache.set(key, parsed);
  return parsed;
}

/** True when every label of `filter` is present in `labels` with the same value. */
export function labelsMatch(labels: Labels, filter: Labels): boolean {
  for (const k in filter) {
    if (labels[k as LabelKey] !== filter[k as LabelKey]) return false;
  }
  return true;
}

/** Sum of the gauges whose series key starts with `prefix` (e.g. all qualities of streams_live). */
export function gaugeSum(gauges: Readonly<Record<string, number>>, prefix: string): number {
  let sum = 0;
  for (const key in gauges) if (key.startsWith(prefix)) sum += gauges[key]!;
  return sum;
}
