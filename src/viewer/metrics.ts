// Viewer figures into the metrics registry: one observer per protocol, shared by every player of
// that protocol in the thread (handles resolved once, nothing built per sample).
import type { MetricsRegistry } from '../metrics/registry.js';
import type { ViewerObserver, ViewerProtocol } from './types.js';

export function viewerMetricsObserver(registry: MetricsRegistry, protocol: ViewerProtocol): ViewerObserver {
  const labels = { kind: protocol };
  const ttff = registry.histogram('viewer_ttff', labels);
  const stalls = registry.counter('viewer_stalls', labels);
  const stallDuration = registry.histogram('viewer_stall_duration', labels);
  const delay = registry.histogram('viewer_delay', labels);
  const bytes = registry.counter('viewer_bytes', labels);
  const playing = registry.gauge('viewers_playing', labels);
  const failures = registry.counterFamily('viewer_failures', ['kind', 'reason']);
  return {
    onFirstFrame(ms) {
      ttff.record(ms);
      playing.add(1);
    },
    onStall(ms) {
      stalls.add(1);
      stallDuration.record(ms);
    },
    // A negative delay means the clocks disagree (another machine); recorded as 0, not dropped.
    onDelay: (ms) => delay.record(Math.max(0, ms)),
    onBytes: (n) => bytes.add(n),
    onFailure: (e) => failures.get(protocol, e.reason).add(1),
    onEnd(stats) {
      if (stats.ttffMs !== null) playing.add(-1);
    },
  };
}
