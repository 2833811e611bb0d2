// Shared by the vendor-profile tests: the farm's real media path for a device in a test.
import type { Scheduler } from '../src/core/scheduler.js';
import { FarmMediaSink } from '../src/farm/media-sink.js';
import { loadCatalogue } from '../src/media/catalogue.js';
import { RtmpPublisherPool } from '../src/media/rtmp/publisher-pool.js';
import { MetricsRegistry } from '../src/metrics/registry.js';

/** The farm's media sink on the bundled ladder (real recordings and alarm pictures); closed by `cleanups`. */
export function realMediaSink(scheduler: Scheduler, cleanups: Array<() => unknown>): FarmMediaSink {
  const sink = new FarmMediaSink(
    loadCatalogue(),
    new RtmpPublisherPool(),
    new MetricsRegistry({ source: 'test' }),
    scheduler,
  );
  cleanups.push(() => sink.close());
  return sink;
}
