// The "generator-limited" flag: when the farm's own threads are saturated, platform latencies in
// the report are inflated by the farm, not the platform. Fed with per-second samples.

import type { SecondSample } from './aggregator.js';
import { parseSeriesKey } from './labels.js';

export interface GeneratorLimitOptions {
  /** Event-loop delay p99 of any thread above this (ms) counts as saturated (default 100). */
  loopDelayP99Ms?: number;
  /** Any thread's cpu_percent above this counts as saturated (default 90 % of a core). */
  threadCpuPercent?: number;
  /** Process cpu_percent above this counts (default 90 × available cores). */
  processCpuPercent?: number;
  /** Consecutive saturated seconds before the run is flagged (default 10). */
  sustainSeconds?: number;
  cores?: number;
}

export interface GeneratorLimitSummary {
  limited: boolean;
  /** Seconds that belonged to a sustained saturated stretch. */
  limitedSeconds: number;
  firstLimitedAt: number | null;
  /** Distinct causes seen in limited stretches, e.g. "eventloop_delay{worker:2} p99 180ms > 100ms". */
  reasons: string[];
}

export class GeneratorLimitDetector {
  private readonly loopMs: number;
  private readonly threadCpu: number;
  private readonly processCpu: number;
  private readonly sustain: number;
  private streak: { since: number; reasons: Set<string> } | null = null;
  private limitedSeconds = 0;
  private firstLimitedAt: number | null = null;
  private readonly reasons = new Set<string>();
  private current = false;

  constructor(opts: GeneratorLimitOptions = {}) {
    this.loopMs = opts.loopDelayP99Ms ?? 100;
    this.threadCpu = opts.threadCpuPercent ?? 90;
    this.processCpu = opts.processCpuPercent ?? 90 * (opts.cores ?? 1);
    this.sustain = opts.sustainSeconds ?? 10;
  }

  /** True while the generator is currently flagged as limited. */
  get limitedNow(): boolean {
    return this.current;
  }

  observe(sample: SecondSample): boolean {
    const causes: string[] = [];
    for (const [key, h] of Object.entries(sample.histograms)) {
      if (parseSeriesKey(key).name === 'eventloop_delay' && h.p99 > this.loopMs) {
        causes.push(`${key} p99 ${Math.round(h.p99)}ms > ${this.loopMs}ms`);
      }
    }
    for (const [key, v] of Object.entries(sample.gauges)) {
      const p = parseSeriesKey(key);
      if (p.name !== 'cpu_percent') continue;
      const limit = p.labels.worker === 'process' ? this.processCpu : this.threadCpu;
      if (v > limit) causes.push(`${key} ${v}% > ${limit}%`);
    }
    if (causes.length === 0) {
      this.streak = null;
      this.current = false;
      return false;
    }
    if (!this.streak) this.streak = { since: sample.t, reasons: new Set() };
    for (const c of causes) this.streak.reasons.add(c.replace(/ [\d.]+(ms|%) >/, ' >'));
    const length = sample.t - this.streak.since + 1;
    if (length >= this.sustain) {
      // The whole stretch counts once it proved sustained.
      this.limitedSeconds += length === this.sustain ? this.sustain : 1;
      if (this.firstLimitedAt === null) this.firstLimitedAt = this.streak.since;
      for (const r of this.streak.reasons) this.reasons.add(r);
      this.current = true;
    }
    return this.current;
  }

  summary(): GeneratorLimitSummary {
    return {
      limited: this.firstLimitedAt !== null,
      limitedSeconds: this.limitedSeconds,
      firstLimitedAt: this.firstLimitedAt,
      reasons: [...this.reasons],
    };
  }
}
