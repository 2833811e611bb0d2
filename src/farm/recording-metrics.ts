import type {
  AlarmPictureObserver,
  CreateFailure,
  DropReason,
  HttpFailure,
  RecorderObserver,
} from '../media/recorder/observer.js';
import type {
  CounterHandle,
  Family,
  GaugeHandle,
  HistogramHandle,
  MetricsRegistry,
} from '../metrics/registry.js';

/**
 * One observer for every cloud recording and alarm picture of a worker: each outcome of the
 * cbk_url flow (contract item 5) and of the picture upload (item 6) becomes a metric record.
 */
export class RecordingMetrics implements RecorderObserver, AlarmPictureObserver {
  readonly recordingsLive: GaugeHandle;
  private readonly created: CounterHandle;
  private readonly createDuration: HistogramHandle;
  private readonly uploadDuration: HistogramHandle;
  private readonly uploadBytes: CounterHandle;
  private readonly uploadsFailed: Family<CounterHandle>;
  private readonly createsFailed: Family<CounterHandle>;
  private readonly dropped: Family<CounterHandle>;
  private readonly pictureDuration: HistogramHandle;
  private readonly pictureBytes: CounterHandle;

  constructor(registry: MetricsRegistry) {
    this.recordingsLive = registry.gauge('recordings_live');
    this.created = registry.counter('segments_created');
    this.createDuration = registry.histogram('segment_create_duration');
    this.uploadDuration = registry.histogram('segment_upload_duration');
    this.uploadBytes = registry.counter('bytes_sent', { kind: 'upload' });
    this.uploadsFailed = registry.counterFamily('uploads_failed', ['reason']);
    this.createsFailed = registry.counterFamily('segment_creates_failed', ['reason']);
    this.dropped = registry.counterFamily('segments_dropped', ['reason']);
    this.pictureDuration = registry.histogram('alarm_picture_upload_duration');
    this.pictureBytes = registry.counter('bytes_sent', { kind: 'picture' });
  }

  segmentCreated(ms: number): void {
    this.created.add(1);
    this.createDuration.record(ms);
  }
  createDeferred(): void {}
  createFailed(reason: CreateFailure): void {
    this.createsFailed.get(reason).add(1);
  }
  segmentUploaded(ms: number, bytes: number): void {
    this.uploadDuration.record(ms);
    this.uploadBytes.add(bytes);
  }
  uploadFailed(reason: HttpFailure): void {
    this.uploadsFailed.get(reason).add(1);
  }
  segmentDropped(reason: DropReason): void {
    // Segments under 1 s are discarded by the contract itself: not a loss.
    if (reason !== 'short') this.dropped.get(reason).add(1);
  }
  saved(): void {}

  alarmPictureUploaded(ms: number, bytes: number): void {
    this.pictureDuration.record(ms);
    this.pictureBytes.add(bytes);
  }
  alarmPictureFailed(reason: HttpFailure): void {
    this.uploadsFailed.get(`picture_${reason}`).add(1);
  }
}
