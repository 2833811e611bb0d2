import type { Scheduler } from '../core/scheduler.js';
import type {
  AlarmPictureJob,
  MediaEvents,
  MediaSink,
  MediaTask,
  PublishJob,
  RecordJob,
} from '../device/media-sink.js';
import { type Catalogue, loadCatalogue, type Quality } from '../media/catalogue.js';
import { CloudRecorder, sharedAlarmJpeg, uploadAlarmPicture } from '../media/recorder/index.js';
import type { RtmpPublisher } from '../media/rtmp/publisher.js';
import { type PublishTask, RtmpPublisherPool } from '../media/rtmp/publisher-pool.js';
import { BITRATE_WINDOW_S } from '../metrics/catalogue.js';
import type {
  CounterHandle,
  Family,
  GaugeHandle,
  HistogramHandle,
  MetricsRegistry,
} from '../metrics/registry.js';
import type { StreamMarks } from './order-notices.js';
import { RecordingMetrics } from './recording-metrics.js';

interface LiveStream {
  quality: Quality;
  /** The rendition's measured bit/s: what the stream should achieve. */
  target: number;
  publisher: RtmpPublisher | null;
  /** performance.now() of NetStream.Publish.Start (0 until then). */
  startedAt: number;
  /** [time ms, media bytes sent] once a second, the oldest first, at most BITRATE_WINDOW_S + 1. */
  samples: number[];
}

/**
 * The farm's `MediaSink`: a device's accepted RTMPPublish becomes a real RTMP push of the
 * rendition for its quality (one shared publisher pool per worker), and every outcome becomes a
 * metric — start latency (RTMPPublish accepted → NetStream.Publish.Start), failures by reason,
 * streams live, achieved vs target bitrate, pacing lag, bytes sent.
 */
export class FarmMediaSink implements MediaSink {
  private readonly live = new Map<PublishTask, LiveStream>();
  private readonly startDuration: Family<HistogramHandle>;
  private readonly publishes: Family<CounterHandle>;
  private readonly streamsLive: Family<GaugeHandle>;
  private readonly bitrateRatio: Family<HistogramHandle>;
  private readonly rtmpBytes: CounterHandle;
  private lastBytes = 0;

  private readonly recordings = new Set<CloudRecorder>();
  private readonly closing = new Set<Promise<void>>();
  private readonly recordingMetrics: RecordingMetrics;
  private nextSource = 0;
  private recordingsStarted = 0;

  constructor(
    readonly catalogue: Catalogue,
    private readonly pool: RtmpPublisherPool,
    registry: MetricsRegistry,
    private readonly scheduler: Scheduler,
    private readonly sourceAddresses: readonly string[] = [],
    /** Told when orders arrive and streams go live (the coordinator measures time to live). */
    private readonly marks?: StreamMarks,
  ) {
    this.recordingMetrics = new RecordingMetrics(registry);
    this.startDuration = registry.histogramFamily('publish_start_duration', ['quality']);
    this.publishes = registry.counterFamily('publishes', ['result', 'reason', 'quality']);
    this.streamsLive = registry.gaugeFamily('streams_live', ['quality']);
    this.bitrateRatio = registry.histogramFamily('bitrate_achieved_ratio', ['quality']);
    this.rtmpBytes = registry.counter('bytes_sent', { kind: 'rtmp' });
  }

  startPublish(job: PublishJob, events: MediaEvents): MediaTask {
    const rendition = this.catalogue.rendition(job.quality);
    const acceptedAt = performance.now();
    const { loginCode, channel } = job;
    this.marks?.({ event: 'delivered', method: 'RTMPPublish', loginCode, channel, at: Date.now() });
    const stream: LiveStream = {
      quality: job.quality,
      target: rendition.bitrate,
      publisher: null,
      startedAt: 0,
      samples: [],
    };
    let ended = false;
    const end = () => {
      if (ended) return false;
      ended = true;
      if (stream.publisher) this.streamsLive.get(job.quality).add(-1);
      if (this.marks) {
        // A push that never went live (refused, failed) ends too: 0 bytes over 0 ms.
        const liveMs = stream.publisher ? performance.now() - stream.startedAt : 0;
        const mediaBytes = stream.publisher?.mediaBytesSent ?? 0;
        this.marks({ event: 'ended', loginCode, channel, mediaBytes, liveMs });
      }
      this.live.delete(task);
      return true;
    };
    const mediaTask: MediaTask = {
      stop: () => {
        if (end()) void task.stop();
      },
    };
    const task = this.pool.publish({
      url: job.url,
      flvPath: rendition.flvPath,
      onStarted: (publisher) => {
        stream.publisher = publisher;
        const startedAt = performance.now();
        stream.startedAt = startedAt;
        stream.samples.push(startedAt, 0);
        this.startDuration.get(job.quality).record(startedAt - acceptedAt);
        this.publishes.get('ok', 'ok', job.quality).add(1);
        this.streamsLive.get(job.quality).add(1);
        this.marks?.({ event: 'live', loginCode, channel, at: Date.now() });
      },
      onFailed: (error) => {
        this.publishes.get('failed', error.reason, job.quality).add(1);
        if (end()) events.mediaFailed(mediaTask, `${error.reason}: ${error.message}`);
      },
    });
    this.live.set(task, stream);
    return mediaTask;
  }

  /** StartCloudRecord accepted: TS segments of the quality's rendition through the cbk_url flow. */
  startRecord(job: RecordJob, events: MediaEvents): MediaTask {
    const { loginCode, channel } = job;
    this.marks?.({ event: 'delivered', method: 'StartCloudRecord', loginCode, channel, at: Date.now() });
    const sources = this.sourceAddresses;
    const recorder: CloudRecorder = new CloudRecorder({
      params: job.params,
      startTs: job.startTs,
      media: this.catalogue.rendition(job.params.quality).tsPath,
      scheduler: this.scheduler,
      observer: this.recordingMetrics,
      // Recordings of one worker start at different points of the loop, as real cameras would.
      startGop: this.recordingsStarted++,
      connectionPerRequest: job.connectionPerRequest === true,
      ...(sources.length > 0 ? { localAddress: sources[this.nextSource++ % sources.length] } : {}),
      onFailure: (detail) => {
        if (this.forget(recorder)) events.mediaFailed(task, detail);
      },
    });
    this.recordings.add(recorder);
    this.recordingMetrics.recordingsLive.add(1);
    const task: MediaTask = {
      stop: () => {
        if (this.forget(recorder)) this.finish(recorder);
      },
    };
    return task;
  }

  uploadAlarmPicture(job: AlarmPictureJob): void {
    const jpeg = this.catalogue.alarmJpegPath;
    if (!jpeg || !job.url) return;
    void uploadAlarmPicture(job.url, sharedAlarmJpeg(jpeg), this.recordingMetrics);
  }

  /** Stops a recording and keeps its end (last upload, op=save) awaited by `close()`. */
  private finish(recorder: CloudRecorder): void {
    recorder.stop();
    const closed = recorder.closed.finally(() => this.closing.delete(closed));
    this.closing.add(closed);
  }

  private forget(recorder: CloudRecorder): boolean {
    if (!this.recordings.delete(recorder)) return false;
    this.recordingMetrics.recordingsLive.add(-1);
    return true;
  }

  /** Once a second (before the worker's metric delta): bytes sent, and each stream's bitrate sample. */
  tick(): void {
    const snapshot = this.pool.snapshot();
    this.rtmpBytes.add(snapshot.bytesSent - this.lastBytes);
    this.lastBytes = snapshot.bytesSent;
    const now = performance.now();
    for (const stream of this.live.values()) {
      const p = stream.publisher;
      if (!p) continue;
      const w = stream.samples;
      // Once a second per live stream: the byte count alone, not a whole stats record.
      w.push(now, p.mediaBytesSent);
      // A full window first: a stream's first seconds are not judged on a fraction of a GOP.
      if (w.length < 2 * (BITRATE_WINDOW_S + 1)) continue;
      if (w.length > 2 * (BITRATE_WINDOW_S + 1)) w.splice(0, 2);
      const seconds = (now - w[0]!) / 1000;
      this.bitrateRatio
        .get(stream.quality)
        .record(((w[w.length - 1]! - w[1]!) * 8) / seconds / stream.target);
    }
  }

  /** Stops every push and recording (recordings send op=save); resolves when all are closed. */
  async close(): Promise<void> {
    const stops: Promise<void>[] = [...this.live.keys()].map((t) => t.stop());
    this.live.clear();
    for (const r of [...this.recordings]) {
      this.forget(r);
      this.finish(r);
    }
    // Recordings stopped by their devices are still uploading their last segment and saving.
    await Promise.all([...stops, ...this.closing]);
  }
}

/** Where a sink's media comes from and goes out of. */
export interface MediaSinkSetup {
  /** The rendition ladder (manifest.json); null: no media is sent. */
  mediaDir: string | null;
  /** Nominal bit/s per quality the ladder must match (a scenario's `media:`); absent: the ladder's own. */
  bitrates?: Partial<Record<Quality, number>>;
  /** Local addresses for media sockets (RTMP, HTTP uploads), as for the devices' WebSockets. */
  sourceAddresses: string[];
}

/**
 * The sink of a worker (and of `ivtfarm device`): real media when there is a ladder, else none
 * (devices still answer).
 */
export function createMediaSink(
  setup: MediaSinkSetup,
  registry: MetricsRegistry,
  scheduler: Scheduler,
  marks?: StreamMarks,
): FarmMediaSink | null {
  if (!setup.mediaDir) return null;
  const catalogue = loadCatalogue({ dir: setup.mediaDir, bitrates: setup.bitrates });
  const lag = registry.histogram('pacing_lag');
  const pool = new RtmpPublisherPool({
    sourceAddresses: setup.sourceAddresses,
    onLag: (ms) => lag.record(ms),
  });
  return new FarmMediaSink(catalogue, pool, registry, scheduler, setup.sourceAddresses, marks);
}
