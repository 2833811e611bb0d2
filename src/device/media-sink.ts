import type { Quality, StartCloudRecordParams } from '../protocol/methods.js';

/**
 * The seam between a device and the media layer (`src/media/`): the device decides *whether*
 * a channel publishes or records (protocol bookkeeping, error codes); a `MediaSink` does the
 * actual RTMP push, TS recording/upload and alarm-picture upload. A sink may fail later
 * (connection refused, upload errors): it then calls `events.mediaFailed(task, detail)` and the
 * channel goes back to state 1 (publish) or drops its record session.
 */

/** A running push or recording; `stop()` must be idempotent and must not call `mediaFailed`. */
export interface MediaTask {
  stop(): void;
}

/** Implemented by a channel; a sink reports asynchronous failures of a task through it. */
export interface MediaEvents {
  mediaFailed(task: MediaTask, detail: string): void;
}

export interface PublishJob {
  readonly loginCode: string;
  readonly channel: number;
  readonly quality: Quality;
  /** RTMP target as the platform gave it. */
  readonly url: string;
  readonly streamId: string;
  /** Nominal bitrate of the chosen rendition, bit/s. */
  readonly bitrate: number;
}

export interface RecordJob {
  readonly loginCode: string;
  readonly channel: number;
  readonly bitrate: number;
  /** The platform's StartCloudRecord params as received. */
  readonly params: Readonly<StartCloudRecordParams>;
  /** `start_ts` resolved: the device clock (epoch seconds) when the platform sent 0 or less. */
  readonly startTs: number;
  /** Every callback POST and segment PUT on a new TCP connection (the vendor's segment writer). */
  readonly connectionPerRequest?: boolean;
}

export interface AlarmPictureJob {
  readonly loginCode: string;
  readonly channel: number;
  readonly type: number;
  /** Non-empty `pic_upload_url` from the AlarmNotify answer. */
  readonly url: string;
}

export interface MediaSink {
  /**
   * False for a device without a media path (`ivtfarm device --no-media`): it answers
   * RTMPPublish and StartCloudRecord with error 101, as a device that does not support a method
   * must (IVR-RPC.md), instead of claiming a stream it does not send. Default true.
   */
  readonly available?: boolean;
  startPublish(job: PublishJob, events: MediaEvents): MediaTask;
  startRecord(job: RecordJob, events: MediaEvents): MediaTask;
  uploadAlarmPicture(job: AlarmPictureJob): void;
}

const idleTask: MediaTask = { stop() {} };

/** A signalling-only device: no push, no recording, no alarm picture — and it says so. */
export const noMediaPath: MediaSink = {
  available: false,
  startPublish: () => idleTask,
  startRecord: () => idleTask,
  uploadAlarmPicture() {},
};

/** The default (unit tests of the protocol): every push and recording "succeeds" without sending a byte. */
export const noMedia: MediaSink = {
  startPublish: () => idleTask,
  startRecord: () => idleTask,
  uploadAlarmPicture() {},
};
