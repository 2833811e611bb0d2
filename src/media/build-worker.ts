// Worker thread: encodes one rendition with @ffmpeg/core (ffmpeg 5.1 compiled to wasm, single
// threaded), writes <q>.ts and <q>.flv into the output directory and measures them without
// ffprobe. One fresh wasm instance per rendition: ffmpeg's global state and the grown heap are
// thrown away with the worker.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { RenditionEntry } from './catalogue.js';
import { alarmJpegArgs, audioArgs, encodeArgs, type RenditionArgs, remuxFlvArgs } from './ladder-args.js';
import { measureTs } from './ts/measure.js';

export interface RenditionJob {
  quality: string;
  width: number;
  height: number;
  videoBitrate: number;
  audioBitrate: number;
  nominalBitrate: number;
  fps: number;
  gopFrames: number;
  durationSeconds: number;
  audioRate: number;
  preset: string;
  out: string;
  /** Host font for the burnt-in clock; without one the `testsrc` pattern's own counter shows time. */
  fontPath: string | undefined;
  /** Also render alarm.jpg (done by one job only). */
  alarmJpeg: boolean;
}

export type WorkerMessage =
  | { type: 'progress'; phase: 'audio' | 'video' | 'remux' | 'measure'; fraction: number }
  | { type: 'done'; entry: RenditionEntry }
  | { type: 'error'; message: string };

interface FFmpegCore {
  FS: {
    writeFile(path: string, data: Uint8Array): void;
    readFile(path: string): Uint8Array;
    unlink(path: string): void;
  };
  exec(...args: string[]): number;
  reset(): void;
  setLogger(logger: (m: { type: string; message: string }) => void): void;
}

type CreateCore = (options: { wasmBinary: Uint8Array }) => Promise<FFmpegCore>;

async function loadCore(): Promise<FFmpegCore> {
  const coreUrl = import.meta.resolve('@ffmpeg/core');
  // The core is built for browser workers: it only needs `self.location` to find itself, and the
  // wasm bytes handed over directly (no fetch).
  (globalThis as { self?: unknown }).self = { location: { href: coreUrl } };
  const { default: create } = (await import(coreUrl)) as { default: CreateCore };
  const wasmBinary = readFileSync(join(dirname(fileURLToPath(coreUrl)), 'ffmpeg-core.wasm'));
  return create({ wasmBinary });
}

function post(message: WorkerMessage): void {
  parentPort!.postMessage(message);
}

async function run(job: RenditionJob): Promise<RenditionEntry> {
  const core = await loadCore();
  const totalFrames = job.durationSeconds * job.fps;
  let log: string[] = [];
  let phase: 'audio' | 'video' | 'remux' = 'audio';
  core.setLogger(({ message }) => {
    log.push(message);
    if (log.length > 200) log = log.slice(-50);
    const m = phase === 'video' ? /frame=\s*(\d+)/.exec(message) : null;
    if (m) post({ type: 'progress', phase, fraction: Math.min(1, Number(m[1]) / totalFrames) });
  });
  const ff = (...args: string[]): void => {
    const rc = core.exec('-hide_banner', '-nostdin', '-y', ...args);
    core.reset();
    if (rc !== 0) throw new Error(`ffmpeg (wasm) failed with ${rc}: ${log.slice(-8).join('\n')}`);
  };

  if (job.fontPath) core.FS.writeFile('/font.ttf', readFileSync(job.fontPath));
  const args: RenditionArgs = { ...job, fontPath: job.fontPath ? '/font.ttf' : null };
  post({ type: 'progress', phase, fraction: 0 });
  ff(...audioArgs(args, 'a.aac'));

  phase = 'video';
  post({ type: 'progress', phase, fraction: 0 });
  ff(...encodeArgs(args, 'a.aac', 'out.ts'));
  core.FS.unlink('a.aac');

  phase = 'remux';
  post({ type: 'progress', phase, fraction: 0 });
  ff(...remuxFlvArgs('out.ts', 'out.flv'));
  const ts = core.FS.readFile('out.ts');
  const flv = core.FS.readFile('out.flv');
  writeFileSync(join(job.out, `${job.quality}.ts`), ts);
  writeFileSync(join(job.out, `${job.quality}.flv`), flv);

  if (job.alarmJpeg) {
    ff(...alarmJpegArgs(args.fontPath, 'alarm.jpg'));
    writeFileSync(join(job.out, 'alarm.jpg'), core.FS.readFile('alarm.jpg'));
  }

  post({ type: 'progress', phase: 'measure', fraction: 1 });
  const m = measureTs(ts, job.durationSeconds);
  if (m.videoFrames !== totalFrames) {
    throw new Error(`${job.quality}: encoded ${m.videoFrames} video frames, expected ${totalFrames}`);
  }
  const audioFrames = (job.durationSeconds * job.audioRate) / 1024;
  if (m.audioFrames !== audioFrames) {
    throw new Error(`${job.quality}: encoded ${m.audioFrames} audio frames, expected ${audioFrames}`);
  }
  return {
    flv: `${job.quality}.flv`,
    ts: `${job.quality}.ts`,
    nominalBitrate: job.nominalBitrate,
    bitrate: m.bitrate,
    videoBitrate: m.videoBitrate,
    audioBitrate: m.audioBitrate,
    width: job.width,
    height: job.height,
    fps: job.fps,
    gopSeconds: job.gopFrames / job.fps,
    durationSeconds: job.durationSeconds,
    keyframes: m.keyframes,
    flvBytes: flv.length,
    tsBytes: ts.length,
    video: m.videoProfile ? { codec: 'h264', profile: m.videoProfile } : { codec: 'h264' },
    audio: { codec: 'aac', sampleRate: job.audioRate, channels: 1 },
  };
}

run(workerData as RenditionJob).then(
  (entry) => post({ type: 'done', entry }),
  (err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
);
