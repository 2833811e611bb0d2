import type { Aggregator } from '../metrics/aggregator.js';
import { GeneratorHealthSampler } from '../metrics/health.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { startDeltaTicker } from '../metrics/ticker.js';

/** The main thread's own metrics (its health, the ramp target), ticked into the aggregator each second. */
export function startMainMetrics(aggregator: Aggregator) {
  const registry = new MetricsRegistry({ source: 'main' });
  const targetGauge = registry.gauge('devices_target');
  const health = new GeneratorHealthSampler(registry, { worker: 'main', process: true });
  const ticker = startDeltaTicker(registry, (d) => aggregator.add(d), { beforeTake: () => health.tick() });
  return {
    targetGauge,
    close(): void {
      ticker.stop(true);
      health.stop();
    },
  };
}
