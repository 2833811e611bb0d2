// Prometheus text exposition (format 0.0.4) of the current run state: counters cumulative as
// `_total`, gauges at the last closed second, histograms as whole-run summaries. Durations are
// exported in seconds (Prometheus base unit) as `<name>_seconds`.

import type { Aggregator } from './aggregator.js';
import { type Catalogue, DEFAULT_CATALOGUE, histogramScale, type MetricDef } from './catalogue.js';
import type { HdrCounts } from './hdr.js';
import { type Labels, parseSeriesKey } from './labels.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const QUANTILES = [0.5, 0.9, 0.95, 0.99] as const;

export interface PrometheusOptions {
  prefix?: string;
  catalogue?: Catalogue;
  /** The run's `tags:`, added as labels to every series. */
  tags?: Readonly<Record<string, string>>;
  /** Mix entries with their tags: one `<prefix>mix_info{mix="…",tag="…"} 1` series each. */
  mix?: ReadonlyArray<{ name: string; tags: Readonly<Record<string, string>> }>;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Labels, extra?: string): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** `k="v",…` of tags, built once per scrape and appended to every series' labels. */
function tagText(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
}

function num(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return '+Inf';
  if (x === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(x);
}

function familyName(def: MetricDef, prefix: string): string {
  if (def.kind === 'counter') return `${prefix}${def.name}_total`;
  if (def.kind === 'histogram' && def.unit === 'ms') return `${prefix}${def.name}_seconds`;
  return `${prefix}${def.name}`;
}

function seriesOf<V>(entries: Iterable<[string, V]>, name: string): Array<[Labels, V]> {
  const out: Array<[Labels, V]> = [];
  for (const [key, v] of entries) {
    const p = parseSeriesKey(key);
    if (p.name === name) out.push([p.labels, v]);
  }
  return out;
}

export function renderPrometheus(aggregator: Aggregator, opts: PrometheusOptions = {}): string {
  const prefix = opts.prefix ?? 'ivtfarm_';
  const catalogue = opts.catalogue ?? DEFAULT_CATALOGUE;
  const totals = aggregator.totals;
  const latestGauges = aggregator.latest?.gauges;
  const gaugeEntries: Array<[string, number]> = latestGauges
    ? Object.entries(latestGauges)
    : [...totals.gauges].map(([k, g]) => [k, g.last]);
  const lines: string[] = [];
  const run = tagText(opts.tags ?? {});
  const join = (...parts: string[]) => parts.filter((p) => p !== '').join(',');
  if (opts.mix && opts.mix.length > 0) {
    lines.push(`# HELP ${prefix}mix_info Mix entries of the run and their tags (join on the mix label)`);
    lines.push(`# TYPE ${prefix}mix_info gauge`);
    for (const m of opts.mix)
      lines.push(`${prefix}mix_info{${join(run, `mix="${escapeLabel(m.name)}"`, tagText(m.tags))}} 1`);
  }
  for (const def of catalogue.values()) {
    const family = familyName(def, prefix);
    const header = () => {
      lines.push(`# HELP ${family} ${escapeHelp(`${def.description} (${def.unit})`)}`);
      lines.push(`# TYPE ${family} ${def.kind === 'histogram' ? 'summary' : def.kind}`);
    };
    if (def.kind === 'counter') {
      const series = seriesOf(totals.counters, def.name);
      if (series.length === 0) continue;
      header();
      for (const [labels, v] of series) lines.push(`${family}${labelText(labels, run)} ${num(v)}`);
    } else if (def.kind === 'gauge') {
      const series = seriesOf(gaugeEntries, def.name);
      if (series.length === 0) continue;
      header();
      for (const [labels, v] of series) lines.push(`${family}${labelText(labels, run)} ${num(v)}`);
    } else {
      const series = seriesOf<HdrCounts>(totals.histograms, def.name).filter(([, h]) => h.count > 0);
      if (series.length === 0) continue;
      header();
      // ms → seconds; other units stay as recorded.
      const div = histogramScale(def.unit) * (def.unit === 'ms' ? 1000 : 1);
      for (const [labels, h] of series) {
        const qs = h.percentiles(QUANTILES.map((q) => q * 100));
        QUANTILES.forEach((q, i) => {
          lines.push(`${family}${labelText(labels, join(run, `quantile="${q}"`))} ${num(qs[i]! / div)}`);
        });
        lines.push(`${family}_sum${labelText(labels, run)} ${num(h.sum / div)}`);
        lines.push(`${family}_count${labelText(labels, run)} ${num(h.count)}`);
      }
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
