// k6's JSON output (`k6 run --out json=FILE`), as documented at
// grafana.com/docs/k6/latest/results-output/real-time/json/: one JSON object per line, either a
// metric declaration or one sample of a metric.
//
//   {"type":"Metric","data":{"name":"vus","type":"gauge","contains":"default","thresholds":[],"submetrics":null},"metric":"vus"}
//   {"type":"Point","data":{"time":"2017-05-09T14:34:45.625742514+02:00","value":5,"tags":null},"metric":"vus"}

export type K6MetricType = 'counter' | 'gauge' | 'rate' | 'trend';

export interface K6MetricLine {
  type: 'Metric';
  metric: string;
  data: {
    name: string;
    type: K6MetricType;
    /** `time` for durations in ms, else `default` (or `data` for bytes). */
    contains: 'default' | 'time' | 'data';
    thresholds: string[];
    submetrics: null;
  };
}

export interface K6PointLine {
  type: 'Point';
  metric: string;
  data: {
    /** RFC 3339 time of the sample. */
    time: string;
    value: number;
    tags: Record<string, string> | null;
  };
}

export type K6Line = K6MetricLine | K6PointLine;

const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'rate', 'trend']);

export class K6FormatError extends Error {
  override name = 'K6FormatError';
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Parses one line of a k6 JSON output file; throws K6FormatError naming what is wrong. */
export function parseK6Line(line: string): K6Line {
  let x: unknown;
  try {
    x = JSON.parse(line);
  } catch {
    throw new K6FormatError('not JSON');
  }
  if (!isRecord(x) || typeof x.metric !== 'string' || !isRecord(x.data))
    throw new K6FormatError('needs "type", "metric" and a "data" object');
  const data = x.data;
  if (x.type === 'Metric') {
    if (typeof data.type !== 'string' || !TYPES.has(data.type))
      throw new K6FormatError(`metric ${x.metric}: data.type must be counter, gauge, rate or trend`);
    return x as unknown as K6MetricLine;
  }
  if (x.type === 'Point') {
    if (typeof data.value !== 'number' || !Number.isFinite(data.value))
      throw new K6FormatError(`point of ${x.metric}: data.value must be a number`);
    if (typeof data.time !== 'string' || Number.isNaN(Date.parse(data.time)))
      throw new K6FormatError(`point of ${x.metric}: data.time must be an RFC 3339 time`);
    if (data.tags !== null && data.tags !== undefined && !isRecord(data.tags))
      throw new K6FormatError(`point of ${x.metric}: data.tags must be an object or null`);
    return x as unknown as K6PointLine;
  }
  throw new K6FormatError('"type" must be "Metric" or "Point"');
}
