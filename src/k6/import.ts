// k6 JSON lines → the run's metrics. k6's HTTP metrics land where ivtfarm's own HTTP load does,
// under `load: k6` (http_req_duration → http_duration, http_reqs → http_requests by status);
// every other k6 metric keeps its name as the `metric` label of k6_counter, k6_gauge, k6_trend
// or k6_rate. Points are grouped by the wall-clock second they carry and handed on as one
// metrics delta per second, like a worker's, so thresholds, the report and Prometheus see them.

import { resultOf } from '../http-load/outcome.js';
import type { MetricsDelta } from '../metrics/delta.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { K6FormatError, type K6MetricType, parseK6Line } from './format.js';

export const K6_SOURCE = 'k6';
const LOAD = 'k6';

interface Sample {
  metric: string;
  value: number;
  tags: Record<string, string>;
}

export class K6Importer {
  private readonly types = new Map<string, K6MetricType>();
  private readonly seconds = new Map<number, Sample[]>();
  private readonly registry: MetricsRegistry;
  private clock = 0;
  /** Lines that were not k6 JSON (counted, the first reason kept). */
  badLines = 0;
  firstBadLine: string | null = null;

  constructor() {
    this.registry = new MetricsRegistry({ source: K6_SOURCE, now: () => this.clock });
  }

  /** One line of k6's output; a point of a metric not declared yet is kept for when it is. */
  line(text: string): void {
    if (text.trim() === '') return;
    try {
      const l = parseK6Line(text);
      if (l.type === 'Metric') {
        this.types.set(l.metric, l.data.type);
        return;
      }
      const t = Math.floor(Date.parse(l.data.time) / 1000);
      let list = this.seconds.get(t);
      if (!list) {
        list = [];
        this.seconds.set(t, list);
      }
      list.push({ metric: l.metric, value: l.data.value, tags: l.data.tags ?? {} });
    } catch (error) {
      if (!(error instanceof K6FormatError)) throw error;
      this.badLines++;
      this.firstBadLine ??= error.message;
    }
  }

  /** Deltas of every second before `beforeSecond` (epoch s), oldest first; all when omitted. */
  take(beforeSecond = Number.POSITIVE_INFINITY): MetricsDelta[] {
    const ready = [...this.seconds.keys()].filter((s) => s < beforeSecond).sort((a, b) => a - b);
    const out: MetricsDelta[] = [];
    for (const s of ready) {
      this.registry.takeDelta(s * 1000); // the gap before this second, if any: nothing in it
      for (const sample of this.seconds.get(s)!) this.record(sample);
      this.seconds.delete(s);
      this.clock = (s + 1) * 1000;
      out.push(this.registry.takeDelta((s + 1) * 1000));
    }
    return out;
  }

  private record({ metric, value, tags }: Sample): void {
    const type = this.types.get(metric) ?? 'gauge';
    const r = this.registry;
    if (metric === 'http_req_duration') {
      r.histogram('http_duration', { load: LOAD }).record(Math.max(0, value));
    } else if (metric === 'http_reqs') {
      const status = Number(tags.status ?? 0);
      const result = status > 0 ? resultOf(status) : 'failed';
      r.counter('http_requests', { load: LOAD, result, status: status > 0 ? status : 'network' }).add(value);
    } else if (type === 'trend') {
      r.histogram('k6_trend', { metric }).record(Math.max(0, value));
    } else if (type === 'counter') {
      r.counter('k6_counter', { metric }).add(value);
    } else if (type === 'rate') {
      r.counter('k6_rate', { metric, result: value !== 0 ? 'true' : 'false' }).add();
    } else {
      r.gauge('k6_gauge', { metric }).set(value);
    }
  }
}
