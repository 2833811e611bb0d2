import { GeneratorHealthSampler } from '../metrics/health.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { startDeltaTicker } from '../metrics/ticker.js';
import type { DeltaSink } from './source.js';

/**
 * The main thread's own metrics (its health, the ramp target), ticked into the aggregator each
 * second; an agent process names itself (`agent-2`) so its RSS and CPU add up with the others'.
 */
export function startMainMetrics(aggregator: DeltaSink, name = 'main') {
  const registry = new MetricsRegistry({ source: name });
  const targetGauge = registry.gauge('devices_target');
  const health = new GeneratorHealthSampler(registry, { worker: name, process: true });
  const ticker = startDeltaTicker(registry, (d) => aggregator.add(d), { beforeTake: () => health.tick() });
  return {
    targetGauge,
    close(): void {
      ticker.stop(true);
      health.stop();
    },
  };
}
