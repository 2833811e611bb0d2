// What a cloud recording and an alarm-picture upload report to the farm's metrics. Called once
// per segment or picture (not per packet), so reasons may be built as strings; nothing is printed.

/** Why an HTTP exchange failed: the final status (`http_503`), a transport error, or a timeout. */
export type HttpFailure = `http_${number}` | 'network' | 'timeout';

/** Why a create gave no upload slot that the device counts as an error (an empty answer is not one). */
export type CreateFailure = HttpFailure | 'bad_answer';

/**
 * Why a finished segment never got uploaded: `short` (under 1 s or 0 bytes, as the contract
 * discards), `queue_full` (the pre-record queue or the memory bound was full), `stopped` (still
 * waiting when the recording stopped).
 */
export type DropReason = 'short' | 'queue_full' | 'stopped';

export interface RecorderObserver {
  /** `op=create` answered with a name and an upload URI; `ms` = request to answer. */
  segmentCreated(ms: number): void;
  /** `op=create` answered with an empty name/uri ("not now"): the segment waits (pre-recording). */
  createDeferred(): void;
  /** `op=create` (or `op=fail`/`op=save`) did not get a usable answer. */
  createFailed(reason: CreateFailure): void;
  /** A PUT succeeded; `ms` from the first byte sent to the answer (pacing included). */
  segmentUploaded(ms: number, bytes: number): void;
  /** A PUT failed for good (after its retries); `op=fail` follows. */
  uploadFailed(reason: HttpFailure): void;
  segmentDropped(reason: DropReason): void;
  /** The recording ended with `op=save`; `ok` false when that request itself failed. */
  saved(ok: boolean): void;
}

export interface AlarmPictureObserver {
  alarmPictureUploaded(ms: number, bytes: number): void;
  alarmPictureFailed(reason: HttpFailure): void;
}

export const nullRecorderObserver: RecorderObserver = {
  segmentCreated() {},
  createDeferred() {},
  createFailed() {},
  segmentUploaded() {},
  uploadFailed() {},
  segmentDropped() {},
  saved() {},
};

export const nullAlarmPictureObserver: AlarmPictureObserver = {
  alarmPictureUploaded() {},
  alarmPictureFailed() {},
};
