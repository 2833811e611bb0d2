export {
  type AlarmPictureOptions,
  sharedAlarmJpeg,
  uploadAlarmPicture,
} from './alarm-picture.js';
export { CloudRecorder, type CloudRecorderOptions, type CloudRecorderStats } from './cloud-recorder.js';
export {
  type AlarmPictureObserver,
  type CreateFailure,
  type DropReason,
  type HttpFailure,
  nullAlarmPictureObserver,
  nullRecorderObserver,
  type RecorderObserver,
} from './observer.js';
export { PacedBody, type PacedBodyOptions } from './paced-body.js';
export { busyQueueLimit, prerecordQueueLimit, type RecordParams } from './queue-rule.js';
export { createForm, resolveCbkUrl, UploadClient, type UploadClientOptions } from './upload-client.js';
