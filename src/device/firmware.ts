import { request } from 'undici';
import type { FirmwareOutcome } from './observer.js';

/** How a download may end short of an upgrade. */
export class FirmwareDownloadError extends Error {
  constructor(
    readonly outcome: Exclude<FirmwareOutcome, 'upgraded' | 'skipped'>,
    message: string,
    /** Bytes read before it ended. */
    readonly bytes = 0,
  ) {
    super(message);
  }
}

export interface DownloadLimits {
  /** The whole download (headers and body) must be done within this time. */
  timeoutMs: number;
  /**
   * Largest image accepted; a larger one is abandoned as soon as it is known. When the platform
   * declares a Content-Length, the cap is also 4 × that size.
   */
  maxBytes: number;
}

/**
 * Downloads a firmware image over HTTP(S) the way a device would, but keeps nothing: the bytes
 * are counted and discarded (a fleet upgrading at once must not hold images in memory). A
 * platform cannot make the device read forever: the download stops at `maxBytes` (at once when
 * the declared Content-Length is larger) and after `timeoutMs` in total.
 * Resolves with the byte count; rejects with a `FirmwareDownloadError`.
 */
export async function downloadFirmware(url: string, limits: DownloadLimits): Promise<number> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const tooSlow = () =>
    new FirmwareDownloadError('too_slow', `not done within ${limits.timeoutMs} ms`, bytes);
  let bytes = 0;
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(url, { method: 'GET', signal });
  } catch (error) {
    if (signal.aborted) throw tooSlow();
    throw new FirmwareDownloadError('failed', (error as Error).message);
  }
  const { statusCode, headers, body } = response;
  if (statusCode >= 400) {
    discard(body);
    throw new FirmwareDownloadError('failed', `firmware download answered HTTP ${statusCode}`);
  }
  const declared = Number(headers['content-length']);
  if (declared > limits.maxBytes) {
    discard(body);
    throw new FirmwareDownloadError('too_large', `declared ${declared} bytes, over ${limits.maxBytes}`);
  }
  const cap = declared > 0 ? Math.min(limits.maxBytes, declared * 4) : limits.maxBytes;
  try {
    for await (const chunk of body) {
      bytes += (chunk as Buffer).length;
      // Leaving the loop destroys the body (and the connection with it).
      if (bytes > cap) {
        throw new FirmwareDownloadError('too_large', `more than ${cap} bytes`, bytes);
      }
    }
  } catch (error) {
    if (error instanceof FirmwareDownloadError) throw error;
    if (signal.aborted) throw tooSlow();
    throw new FirmwareDownloadError('failed', (error as Error).message, bytes);
  }
  return bytes;
}

/** Drops a body without reading it (destroying it emits an abort error nobody needs). */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => {});
  body.destroy();
}

/** Whether a GetFirmware answer asks for an upgrade (the vendor SDK's rule). */
export function wantsUpgrade(current: string, offered: { firmware_model: string; url: string }): boolean {
  return (
    offered.url.startsWith('http') && offered.firmware_model !== '' && offered.firmware_model !== current
  );
}
