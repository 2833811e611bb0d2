import { request } from 'undici';

/**
 * Downloads a firmware image over HTTP(S) the way a device would, but keeps nothing: the bytes
 * are counted and discarded (a fleet upgrading at once must not hold images in memory).
 * Resolves with the byte count; rejects on an HTTP error status or a transport failure.
 */
export async function downloadFirmware(url: string, timeoutMs: number): Promise<number> {
  const { statusCode, body } = await request(url, {
    method: 'GET',
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  if (statusCode >= 400) {
    await body.dump();
    throw new Error(`firmware download answered HTTP ${statusCode}`);
  }
  let bytes = 0;
  for await (const chunk of body) bytes += (chunk as Buffer).length;
  return bytes;
}

/** Whether a GetFirmware answer asks for an upgrade (the vendor SDK's rule). */
export function wantsUpgrade(current: string, offered: { firmware_model: string; url: string }): boolean {
  return (
    offered.url.startsWith('http') && offered.firmware_model !== '' && offered.firmware_model !== current
  );
}
