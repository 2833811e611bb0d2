// ADTS (AAC in MPEG-TS) frame headers: how many frames, samples and raw AAC bytes a PES holds.

const SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

export interface AdtsScan {
  frames: number;
  /** PCM samples per channel the frames decode to (1024 per raw data block). */
  samples: number;
  /** Sampling rate of the first header; 0 when none was found. */
  sampleRate: number;
  /** AAC bytes without the 7/9-byte headers. */
  payloadBytes: number;
  /** False when the data stopped matching ADTS before its end. */
  complete: boolean;
}

export function scanAdts(data: Uint8Array): AdtsScan {
  const scan: AdtsScan = { frames: 0, samples: 0, sampleRate: 0, payloadBytes: 0, complete: true };
  let i = 0;
  while (i + 7 <= data.length) {
    if (data[i] !== 0xff || (data[i + 1]! & 0xf6) !== 0xf0) break;
    const header = data[i + 1]! & 1 ? 7 : 9; // protection_absent = 1: no CRC
    const length = ((data[i + 3]! & 0x03) << 11) | (data[i + 4]! << 3) | (data[i + 5]! >> 5);
    if (length <= header) break;
    if (scan.sampleRate === 0) scan.sampleRate = SAMPLE_RATES[(data[i + 2]! >> 2) & 0x0f] ?? 0;
    scan.frames++;
    scan.samples += 1024 * ((data[i + 6]! & 0x03) + 1);
    scan.payloadBytes += Math.min(length, data.length - i) - header;
    i += length;
  }
  if (i < data.length) {
    scan.complete = false;
    scan.payloadBytes += data.length - i;
  }
  return scan;
}
