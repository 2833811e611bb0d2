import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-util.js';
import type { IvcPlatform } from './platform.js';

const MAX_PICTURE = 16 * 1024 * 1024;

/**
 * `POST /upload/alarm/<login_code>/<channel>`: takes one alarm picture, checks the JPEG
 * start-of-image marker (FF D8) and counts its bytes without keeping them.
 */
export function receiveAlarmPicture(
  platform: IvcPlatform,
  loginCode: string,
  channel: number,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const device = platform.devices.get(loginCode);
  if (!device || !Number.isInteger(channel)) {
    req.resume();
    sendJson(res, 404, { error: `unknown device ${loginCode} or channel` });
    return;
  }
  const head: number[] = [];
  let bytes = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    for (let i = 0; head.length < 2 && i < chunk.length; i++) head.push(chunk[i]!);
    bytes += chunk.length;
    if (bytes > MAX_PICTURE && !tooLarge) {
      tooLarge = true;
      sendJson(res, 413, { error: `picture larger than ${MAX_PICTURE} bytes` });
      req.destroy();
    }
  });
  req.on('error', () => {});
  req.on('end', () => {
    if (tooLarge) return;
    const isJpeg = head[0] === 0xff && head[1] === 0xd8;
    if (!isJpeg) {
      platform.violation(
        device,
        'alarm_picture',
        `channel ${channel}: ${bytes} bytes without a JPEG SOI marker`,
      );
      sendJson(res, 400, { error: 'not a JPEG (no FF D8 start-of-image marker)' });
      return;
    }
    device.alarmPictures++;
    device.alarmPictureBytes += bytes;
    platform.stats.alarmPictures++;
    platform.stats.alarmPictureBytes += bytes;
    sendJson(res, 200, { bytes });
  });
}
