// Per-thread metric registry. Devices resolve a handle once (name + labels → series key, a string
// built at resolution time) and then record through it: `add`, `set`, `record` touch only numbers
// and typed arrays. `takeDelta()` (once a second) drains everything into a MetricsDelta.

import {
  type Catalogue,
  DEFAULT_CATALOGUE,
  histogramScale,
  type MetricDef,
  type MetricKind,
} from './catalogue.js';
import type { HistogramDelta, MetricsDelta } from './delta.js';
import { HdrCounts } from './hdr.js';
import { isLabelKey, type LabelInput, type LabelKey, seriesKey } from './labels.js';

export class CounterHandle {
  /** Increments since the last takeDelta. */
  delta = 0;
  constructor(readonly key: string) {}
  add(n = 1): void {
    this.delta += n;
  }
}

export class GaugeHandle {
  value = 0;
  constructor(readonly key: string) {}
  set(v: number): void {
    this.value = v;
  }
  add(n: number): void {
    this.value += n;
  }
}

export class HistogramHandle {
  /** Samples since the last takeDelta, in integer units (value × scale). */
  readonly counts = new HdrCounts('u32');
  constructor(
    readonly key: string,
    /** Integer units per metric unit (1000 for ms: 1 µs resolution). */
    readonly scale: number,
  ) {}
  /** Records one sample in the metric's unit (milliseconds for durations). */
  record(value: number): void {
    this.counts.record(value * this.scale);
  }
  recordMany(value: number, times: number): void {
    if (times > 0) this.counts.record(value * this.scale, times);
  }
}

type Handle = CounterHandle | GaugeHandle | HistogramHandle;
type LabelValue = string | number;

/**
 * Handles of one metric by label values, cached in nested maps so a hot path with a dynamic label
 * (`rpc_duration` by method) resolves its handle without building a string.
 */
export class Family<H extends Handle> {
  private readonly root = new Map<LabelValue, unknown>();
  constructor(
    private readonly keys: readonly LabelKey[],
    private readonly resolve: (labels: LabelInput) => H,
  ) {}

  get(a: LabelValue, b?: LabelValue, c?: LabelValue): H {
    // No rest arguments or arrays: this runs per recorded event.
    const n = this.keys.length;
    if (n === 1) return this.leaf(this.root, a, a, b, c);
    const l1 = this.level(this.root, a);
    if (n === 2) return this.leaf(l1, b as LabelValue, a, b, c);
    return this.leaf(this.level(l1, b as LabelValue), c as LabelValue, a, b, c);
  }

  private level(map: Map<LabelValue, unknown>, v: LabelValue): Map<LabelValue, unknown> {
    let next = map.get(v) as Map<LabelValue, unknown> | undefined;
    if (!next) {
      next = new Map();
      map.set(v, next);
    }
    return next;
  }

  private leaf(
    map: Map<LabelValue, unknown>,
    v: LabelValue,
    a: LabelValue,
    b?: LabelValue,
    c?: LabelValue,
  ): H {
    let h = map.get(v) as H | undefined;
    if (!h) {
      const values = [a, b, c];
      const labels: LabelInput = {};
      for (let i = 0; i < this.keys.length; i++) labels[this.keys[i]!] = values[i] as LabelValue;
      h = this.resolve(labels);
      map.set(v, h);
    }
    return h;
  }
}

export interface RegistryOptions {
  /** Identifies this registry's deltas (gauges are combined per source). */
  source: string;
  catalogue?: Catalogue;
  /** Series per metric before new label combinations collapse into `_other` (runaway-label guard). */
  maxSeriesPerMetric?: number;
  /** Clock for delta intervals (tests). */
  now?: () => number;
}

export class MetricsRegistry {
  readonly source: string;
  private readonly catalogue: Catalogue;
  private readonly maxSeries: number;
  private readonly now: () => number;
  private readonly counters = new Map<string, CounterHandle>();
  private readonly gauges = new Map<string, GaugeHandle>();
  private readonly histograms = new Map<string, HistogramHandle>();
  private readonly seriesPerMetric = new Map<string, number>();
  private lastTake: number;

  constructor(opts: RegistryOptions) {
    this.source = opts.source;
    this.catalogue = opts.catalogue ?? DEFAULT_CATALOGUE;
    this.maxSeries = opts.maxSeriesPerMetric ?? 1000;
    this.now = opts.now ?? Date.now;
    this.lastTake = this.now();
  }

  counter(name: string, labels?: LabelInput): CounterHandle {
    return this.resolve(name, 'counter', labels, this.counters, (k) => new CounterHandle(k));
  }

  gauge(name: string, labels?: LabelInput): GaugeHandle {
    return this.resolve(name, 'gauge', labels, this.gauges, (k) => new GaugeHandle(k));
  }

  histogram(name: string, labels?: LabelInput): HistogramHandle {
    return this.resolve(name, 'histogram', labels, this.histograms, (k, def) => {
      return new HistogramHandle(k, histogramScale(def.unit));
    });
  }

  counterFamily(name: string, keys: readonly LabelKey[]): Family<CounterHandle> {
    this.checkFamily(name, 'counter', keys);
    return new Family(keys, (l) => this.counter(name, l));
  }

  gaugeFamily(name: string, keys: readonly LabelKey[]): Family<GaugeHandle> {
    this.checkFamily(name, 'gauge', keys);
    return new Family(keys, (l) => this.gauge(name, l));
  }

  histogramFamily(name: string, keys: readonly LabelKey[]): Family<HistogramHandle> {
    this.checkFamily(name, 'histogram', keys);
    return new Family(keys, (l) => this.histogram(name, l));
  }

  /** Drains counters and histograms of the interval since the last call; gauges keep their values. */
  takeDelta(now: number = this.now()): MetricsDelta {
    const counters: Record<string, number> = {};
    for (const c of this.counters.values()) {
      if (c.delta !== 0) {
        counters[c.key] = c.delta;
        c.delta = 0;
      }
    }
    const gauges: Record<string, number> = {};
    for (const g of this.gauges.values()) gauges[g.key] = g.value;
    const histograms: Record<string, HistogramDelta> = {};
    for (const h of this.histograms.values()) {
      const c = h.counts;
      if (c.count === 0) continue;
      histograms[h.key] = { count: c.count, sum: c.sum, min: c.min, max: c.max, buckets: c.toSparse() };
      c.reset();
    }
    const from = this.lastTake;
    this.lastTake = Math.max(now, from);
    return { v: 1, source: this.source, from, to: this.lastTake, counters, gauges, histograms };
  }

  private checkFamily(name: string, kind: MetricKind, keys: readonly LabelKey[]): void {
    const def = this.definition(name, kind);
    if (keys.length < 1 || keys.length > 3)
      throw new Error(`a family takes 1 to 3 label keys (metric ${name})`);
    for (const k of keys) {
      if (!def.labels.includes(k))
        throw new Error(`metric ${name} has no label "${k}" (labels: ${def.labels.join(', ')})`);
    }
  }

  private definition(name: string, kind: MetricKind): MetricDef {
    const def = this.catalogue.get(name);
    if (!def) throw new Error(`unknown metric "${name}" (not in the catalogue)`);
    if (def.kind !== kind) throw new Error(`metric "${name}" is a ${def.kind}, not a ${kind}`);
    return def;
  }

  private resolve<H extends Handle>(
    name: string,
    kind: MetricKind,
    labels: LabelInput | undefined,
    table: Map<string, H>,
    make: (key: string, def: MetricDef) => H,
  ): H {
    let key = seriesKey(name, labels);
    const existing = table.get(key);
    if (existing) return existing;
    const def = this.definition(name, kind);
    if (labels) {
      for (const k of Object.keys(labels)) {
        if (!isLabelKey(k) || !def.labels.includes(k)) {
          throw new Error(`metric ${name} has no label "${k}" (labels: ${def.labels.join(', ') || 'none'})`);
        }
      }
    }
    const n = this.seriesPerMetric.get(name) ?? 0;
    if (n >= this.maxSeries && labels) {
      // Too many label combinations: fold the excess into one series rather than grow without bound.
      const folded: LabelInput = {};
      for (const k of Object.keys(labels) as LabelKey[]) folded[k] = '_other';
      key = seriesKey(name, folded);
      const other = table.get(key);
      if (other) return other;
    }
    const h = make(key, def);
    table.set(key, h);
    this.seriesPerMetric.set(name, n + 1);
    return h;
  }
}
