import { parseSeriesKey } from '../metrics/labels.js';

/** Sums of a counter's series by a function of its labels. */
export function byLabels(
  counters: Record<string, number>,
  metric: string,
  key: (l: Record<string, string>) => string[],
): Array<[string[], number]> {
  const out = new Map<string, [string[], number]>();
  for (const [k, n] of Object.entries(counters)) {
    const p = parseSeriesKey(k);
    if (p.name !== metric) continue;
    const parts = key(p.labels as Record<string, string>);
    const id = parts.join('\u0000');
    const cur = out.get(id);
    if (cur) cur[1] += n;
    else out.set(id, [parts, n]);
  }
  return [...out.values()].sort((a, b) => b[1] - a[1]);
}

/** Counters of one metric summed by one label, largest first, e.g. disconnects by reason. */
export function byLabel(
  counters: Record<string, number>,
  metric: string,
  label: string,
): Array<[string, number]> {
  return byLabels(counters, metric, (l) => [l[label] ?? '']).map(([[v], n]) => [v!, n]);
}
