// Figures of an encoded rendition read off its TS (no ffprobe): elementary-stream bytes per kind,
// hence bit rates, and the video frame and key frame counts.
import { scanAdts } from './adts.js';
import { pesData, readTs } from './reader.js';

export interface TsMeasure {
  /** Audio + video elementary bytes × 8 / duration, bit/s (what ffprobe's packet sizes give). */
  bitrate: number;
  videoBitrate: number;
  audioBitrate: number;
  videoFrames: number;
  keyframes: number;
  /** AAC frames (ADTS), 0 when the audio is not ADTS. */
  audioFrames: number;
  /** H.264 profile from the first SPS, named as ffprobe names it ("Main", "Constrained Baseline"...). */
  videoProfile: string | undefined;
}

function h264Profile(data: Uint8Array): string | undefined {
  for (let i = 0; i + 6 < data.length; i++) {
    if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 1 || (data[i + 3]! & 0x1f) !== 7) continue;
    const idc = data[i + 4]!;
    const constraints = data[i + 5]!;
    if (idc === 66) return constraints & 0x40 ? 'Constrained Baseline' : 'Baseline';
    return (
      { 77: 'Main', 88: 'Extended', 100: 'High', 110: 'High 10', 122: 'High 4:2:2' }[idc] ?? `profile ${idc}`
    );
  }
  return undefined;
}

export function measureTs(bytes: Uint8Array, durationSeconds: number): TsMeasure {
  const index = readTs(bytes);
  let video = 0;
  let audio = 0;
  let videoFrames = 0;
  let keyframes = 0;
  let audioFrames = 0;
  let videoProfile: string | undefined;
  const adtsPids = new Set(index.streams.filter((s) => s.streamType === 0x0f).map((s) => s.pid));
  index.pes.forEach((u, n) => {
    if (u.kind === 'other') return;
    const data = pesData(index, n);
    if (u.kind === 'video') {
      video += data.length;
      videoFrames++;
      if (u.key) keyframes++;
      if (u.key && videoProfile === undefined) videoProfile = h264Profile(data);
    } else if (adtsPids.has(u.pid)) {
      const a = scanAdts(data);
      audio += a.payloadBytes;
      audioFrames += a.frames;
    } else {
      audio += data.length;
    }
  });
  const rate = (b: number) => Math.round((b * 8) / durationSeconds);
  return {
    bitrate: rate(video + audio),
    videoBitrate: rate(video),
    audioBitrate: rate(audio),
    videoFrames,
    keyframes,
    audioFrames,
    videoProfile,
  };
}
