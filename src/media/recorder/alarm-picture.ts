// Alarm picture upload (contract item 6): one POST of the alarm JPEG to the `pic_upload_url` the
// platform answered AlarmNotify with. The JPEG is read once per thread and shared by every device.
import { readFileSync } from 'node:fs';
import { type Dispatcher, errors, request } from 'undici';
import { type AlarmPictureObserver, type HttpFailure, nullAlarmPictureObserver } from './observer.js';

const pictures = new Map<string, Buffer>();

/** The alarm JPEG at `path`, loaded on first use and shared afterwards (never copied per upload). */
export function sharedAlarmJpeg(path: string): Buffer {
  let bytes = pictures.get(path);
  if (!bytes) {
    bytes = readFileSync(path);
    pictures.set(path, bytes);
  }
  return bytes;
}

export interface AlarmPictureOptions {
  /** Connection pool to use (default: undici's global one, shared by the worker). */
  dispatcher?: Dispatcher;
  /** Bound on the whole exchange, ms (default 30 s). */
  timeoutMs?: number;
}

/**
 * `POST <url>` with `Content-Type: image/jpeg` and the picture; an empty url means no upload.
 * Never rejects: the outcome goes to the observer. Resolves with true when the platform took it.
 */
export async function uploadAlarmPicture(
  url: string,
  jpeg: Uint8Array,
  observer: AlarmPictureObserver = nullAlarmPictureObserver,
  options: AlarmPictureOptions = {},
): Promise<boolean> {
  if (url === '') return false;
  const t0 = performance.now();
  const timeoutMs = options.timeoutMs ?? 30_000;
  let reason: HttpFailure;
  try {
    const res = await request(url.replace(/^ivr:\/\//i, 'http://'), {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', 'content-length': String(jpeg.length) },
      body: jpeg,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    await res.body.dump();
    if (res.statusCode < 400) {
      observer.alarmPictureUploaded(performance.now() - t0, jpeg.length);
      return true;
    }
    reason = `http_${res.statusCode}`;
  } catch (error) {
    reason =
      error instanceof errors.HeadersTimeoutError ||
      error instanceof errors.BodyTimeoutError ||
      error instanceof errors.ConnectTimeoutError
        ? 'timeout'
        : 'network';
  }
  observer.alarmPictureFailed(reason);
  return false;
}
