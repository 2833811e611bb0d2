// FLV reader: parses a file once into a read-only structure shared by every stream of a worker.
// Tag payloads are `subarray` views of the file buffer — never copied — so N streams cost one file.
import { readFile } from 'node:fs/promises';
import { type Amf0Object, decodeAmf0 } from './rtmp/amf0.js';

export const TAG_AUDIO = 8;
export const TAG_VIDEO = 9;
export const TAG_SCRIPT = 18;

export interface FlvTag {
  readonly type: typeof TAG_AUDIO | typeof TAG_VIDEO;
  /** Milliseconds since the file's first media tag (so a loop starts at 0). */
  readonly timestamp: number;
  /** Video key frame (always false for audio). */
  readonly keyframe: boolean;
  /** View into the file buffer: the RTMP message body as-is. */
  readonly payload: Buffer;
}

export interface FlvFile {
  readonly hasAudio: boolean;
  readonly hasVideo: boolean;
  /** Decoded onMetaData properties (empty object when the file has none). */
  readonly metadata: Amf0Object;
  /** Raw body of the onMetaData script tag (`"onMetaData"` + ECMA array), if any. */
  readonly metadataPayload: Buffer | null;
  /** Body of the AVC sequence header tag (AVCDecoderConfigurationRecord, with the 5-byte FLV video header). */
  readonly videoConfig: Buffer | null;
  /** Body of the AAC sequence header tag (AudioSpecificConfig, with the 2-byte FLV audio header). */
  readonly audioConfig: Buffer | null;
  /** Media tags in file order, sequence headers and end-of-sequence markers removed. */
  readonly tags: readonly FlvTag[];
  /**
   * Length of one loop in ms: past the last tag of every type by one frame interval, so a loop that
   * restarts at `timestamp + loopDuration` stays strictly monotonic per type.
   */
  readonly loopDuration: number;
  /** Payload bytes of `tags` (one loop), the figure RTMP pushes per loop. */
  readonly mediaBytes: number;
  /** mediaBytes × 8 / loopDuration, in bit/s. */
  readonly bitrate: number;
}

export class FlvError extends Error {
  override name = 'FlvError';
}

const VIDEO_CODEC_AVC = 7;
const AUDIO_FORMAT_AAC = 10;

export async function loadFlv(path: string): Promise<FlvFile> {
  return parseFlv(await readFile(path));
}

export function parseFlv(buf: Buffer): FlvFile {
  if (buf.length < 13 || buf.toString('latin1', 0, 3) !== 'FLV') throw new FlvError('not an FLV file');
  const flags = buf[4] ?? 0;
  const headerSize = buf.readUInt32BE(5);
  let pos = headerSize + 4; // skip PreviousTagSize0

  let metadata: Amf0Object = {};
  let metadataPayload: Buffer | null = null;
  let videoConfig: Buffer | null = null;
  let audioConfig: Buffer | null = null;
  const raw: { type: 8 | 9; ts: number; keyframe: boolean; payload: Buffer }[] = [];

  while (pos + 11 <= buf.length) {
    const type = (buf[pos] ?? 0) & 0x1f;
    const size = buf.readUIntBE(pos + 1, 3);
    const ts = buf.readUIntBE(pos + 4, 3) + (buf[pos + 7] ?? 0) * 0x1000000; // upper 8 bits come last
    const start = pos + 11;
    const end = start + size;
    if (end > buf.length) break; // truncated last tag (file cut while recording): ignore it
    const payload = buf.subarray(start, end);
    pos = end + 4;
    if (size === 0) continue;

    if (type === TAG_SCRIPT) {
      if (metadataPayload) continue;
      const values = decodeAmf0(payload);
      const body = values[1];
      if (values[0] === 'onMetaData' && body && typeof body === 'object' && !Array.isArray(body)) {
        if (!(body instanceof Date)) metadata = body;
        metadataPayload = payload;
      }
    } else if (type === TAG_VIDEO) {
      const codec = (payload[0] ?? 0) & 0x0f;
      const packetType = payload[1];
      if (codec === VIDEO_CODEC_AVC && packetType === 0) {
        videoConfig ??= payload;
        continue;
      }
      if (codec === VIDEO_CODEC_AVC && packetType === 2) continue; // end of sequence: would end the stream
      raw.push({ type: TAG_VIDEO, ts, keyframe: (payload[0] ?? 0) >> 4 === 1, payload });
    } else if (type === TAG_AUDIO) {
      if ((payload[0] ?? 0) >> 4 === AUDIO_FORMAT_AAC && payload[1] === 0) {
        audioConfig ??= payload;
        continue;
      }
      raw.push({ type: TAG_AUDIO, ts, keyframe: false, payload });
    }
  }
  if (raw.length === 0) throw new FlvError('FLV file has no media tags');

  const first = raw.reduce((m, t) => Math.min(m, t.ts), Number.POSITIVE_INFINITY);
  const tags: FlvTag[] = raw.map((t) => ({
    type: t.type,
    timestamp: t.ts - first,
    keyframe: t.keyframe,
    payload: t.payload,
  }));
  const loopDuration = Math.max(endOfTrack(tags, TAG_VIDEO), endOfTrack(tags, TAG_AUDIO), 1);
  const mediaBytes = tags.reduce((n, t) => n + t.payload.length, 0);
  return {
    hasAudio: (flags & 0x04) !== 0 || audioConfig !== null,
    hasVideo: (flags & 0x01) !== 0 || videoConfig !== null,
    metadata,
    metadataPayload,
    videoConfig,
    audioConfig,
    tags,
    loopDuration,
    mediaBytes,
    bitrate: Math.round((mediaBytes * 8 * 1000) / loopDuration),
  };
}

/** Last timestamp of a track plus its mean frame interval; 0 for an absent track. */
function endOfTrack(tags: readonly FlvTag[], type: number): number {
  let count = 0;
  let firstTs = 0;
  let lastTs = 0;
  for (const t of tags) {
    if (t.type !== type) continue;
    if (count === 0) firstTs = t.timestamp;
    lastTs = t.timestamp;
    count++;
  }
  if (count === 0) return 0;
  const interval = count > 1 ? Math.round((lastTs - firstTs) / (count - 1)) : 40;
  return lastTs + Math.max(interval, 1);
}
