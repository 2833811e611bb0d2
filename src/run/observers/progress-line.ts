import { FAULT_DISCONNECT_REASONS } from '../../core/disconnect-reasons.js';
import type { ProgressDisplay } from '../../farm/progress.js';
import { gaugeSum, parseSeriesKey } from '../../metrics/labels.js';
import type { RunObserver, SecondTick } from '../observer.js';
import type { GeneratorWatch } from './generator.js';

/** Counters shown as "errors" on the live line: failed logins, error answers, fault disconnects. */
function isErrorSeries(key: string): boolean {
  const { name, labels } = parseSeriesKey(key);
  if (name === 'rpc_errors') return true;
  if (name === 'logins') return labels.result !== 'ok';
  return name === 'disconnects' && FAULT_DISCONNECT_REASONS.has(labels.reason ?? '');
}

/** The live line (stderr): time, devices online, logins/s, keepalive p99, streams, errors. */
export class ProgressLine implements RunObserver {
  private t0: number | null = null;
  private errors = 0;

  constructor(
    private readonly display: ProgressDisplay,
    private readonly totalMs: number,
    /** Devices the load shape wants running now. */
    private readonly target: () => number,
    private readonly generator: GeneratorWatch,
  ) {}

  start(): void {
    this.t0 = performance.now();
  }

  second({ sample: s }: SecondTick): undefined {
    for (const [key, n] of Object.entries(s.counters)) if (isErrorSeries(key)) this.errors += n;
    if (this.t0 === null) return undefined;
    this.display.update({
      elapsedMs: performance.now() - this.t0,
      totalMs: this.totalMs,
      online: s.gauges['devices{state:online}'] ?? 0,
      target: this.target(),
      loginsPerSec: gaugeSum(s.counters, 'logins{result:ok,reason:ok'), // summed over mix entries
      keepaliveP99Ms: s.histograms.keepalive_rtt?.p99 ?? null,
      errors: this.errors,
      streamsLive: gaugeSum(s.gauges, 'streams_live'),
      note: this.generator.limitedNow ? 'GENERATOR LIMITED' : undefined,
    });
    return undefined;
  }

  close(): void {
    this.display.finish();
  }
}
