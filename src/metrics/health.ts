// Load-generator health: is the farm itself the bottleneck? Ticked once a second by each worker
// (and by the coordinator with `process: true`), just before takeDelta().

import {
  type EventLoopUtilization,
  type IntervalHistogram,
  monitorEventLoopDelay,
  performance,
} from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { GaugeHandle, HistogramHandle, MetricsRegistry } from './registry.js';

export interface HealthSamplerOptions {
  /** Label value for this thread, e.g. "0", "1", ... or "main". */
  worker: string;
  /** Also sample process-wide figures (rss, process CPU): do it in exactly one thread. */
  process?: boolean;
  /** monitorEventLoopDelay resolution in ms (default 10). */
  resolutionMs?: number;
}

export class GeneratorHealthSampler {
  private readonly loop: IntervalHistogram;
  private readonly resolutionNs: number;
  private readonly delay: HistogramHandle;
  private readonly cpu: GaugeHandle;
  private readonly heap: GaugeHandle;
  private readonly processCpu: GaugeHandle | null;
  private readonly rss: GaugeHandle | null;
  private lastElu: EventLoopUtilization;
  private lastCpu: NodeJS.CpuUsage;
  private lastWall: number;

  constructor(registry: MetricsRegistry, opts: HealthSamplerOptions) {
    const resolutionMs = opts.resolutionMs ?? 10;
    this.resolutionNs = resolutionMs * 1e6;
    this.loop = monitorEventLoopDelay({ resolution: resolutionMs });
    this.loop.enable();
    this.delay = registry.histogram('eventloop_delay', { worker: opts.worker });
    this.cpu = registry.gauge('cpu_percent', { worker: opts.worker });
    this.heap = registry.gauge('heap_used_bytes', { worker: opts.worker });
    this.processCpu = opts.process ? registry.gauge('cpu_percent', { worker: 'process' }) : null;
    this.rss = opts.process ? registry.gauge('rss_bytes') : null;
    this.lastElu = performance.eventLoopUtilization();
    this.lastCpu = process.cpuUsage();
    this.lastWall = performance.now();
  }

  /** Moves the last second's observations into the registry. */
  tick(): void {
    this.drainLoopDelay();
    const elu = performance.eventLoopUtilization();
    this.cpu.set(round1(performance.eventLoopUtilization(elu, this.lastElu).utilization * 100));
    this.lastElu = elu;
    this.heap.set(getHeapStatistics().used_heap_size);
    const wall = performance.now();
    if (this.processCpu && this.rss) {
      const cpu = process.cpuUsage();
      const usedUs = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
      const wallUs = (wall - this.lastWall) * 1000;
      if (wallUs > 0) this.processCpu.set(round1((usedUs / wallUs) * 100));
      this.lastCpu = cpu;
      this.rss.set(process.memoryUsage.rss());
    }
    this.lastWall = wall;
  }

  stop(): void {
    this.loop.disable();
  }

  /**
   * Node's histogram only exposes percentile points; rebuild an approximate distribution from them
   * (counts between consecutive points go to the upper point). It measures timer intervals, so the
   * resolution is subtracted to get the delay.
   */
  private drainLoopDelay(): void {
    const total = this.loop.count;
    if (total > 0) {
      let done = 0;
      for (const [p, ns] of this.loop.percentiles) {
        const upto = Math.round((total * p) / 100);
        if (upto > done) {
          this.delay.recordMany(Math.max(ns - this.resolutionNs, 0) / 1e6, upto - done);
          done = upto;
        }
      }
    }
    this.loop.reset();
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
