// Worker thread: encodes one rendition with @ffmpeg/core (ffmpeg 5.1 compiled to wasm, single
// threaded), writes <q>.ts and <q>.flv into the output directory and measures them without
// ffprobe. One fresh wasm instance per rendition: ffmpeg's global state and the grown heap are
// thrown away with the worker.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { RenditionEntry } from './catalogue.js';
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

  post({ type: 'progress', phase, fraction: 0 });
  // AAC adds 1024 priming samples: encode alone, then keep exactly `durationSeconds` of it (-t on
  // the mux) so audio starts with video and both end together: the loop has no gap or overlap.
  ff(
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=1000:beep_factor=4:sample_rate=${job.audioRate}`,
    '-t',
    String(job.durationSeconds + 1),
    '-c:a',
    'aac',
    '-b:a',
    String(job.audioBitrate),
    '-ac',
    '1',
    '-f',
    'adts',
    'a.aac',
  );

  phase = 'video';
  post({ type: 'progress', phase, fraction: 0 });
  let source = `testsrc=size=${job.width}x${job.height}:rate=${job.fps}`;
  if (job.fontPath) {
    core.FS.writeFile('/font.ttf', readFileSync(job.fontPath));
    const size = Math.max(8, Math.round(job.height / 12));
    const text = `${job.quality} ${job.width}x${job.height} %{pts\\:hms} f%{n}`;
    source =
      `testsrc2=size=${job.width}x${job.height}:rate=${job.fps},drawtext=fontfile=/font.ttf:text='${text}'` +
      `:x=${size}:y=${size}:fontsize=${size}:fontcolor=white:box=1:boxcolor=black@0.6`;
  }
  const v = String(job.videoBitrate);
  ff(
    '-f',
    'lavfi',
    '-i',
    source,
    '-i',
    'a.aac',
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-t',
    String(job.durationSeconds),
    '-c:v',
    'libx264',
    '-preset',
    job.preset,
    '-profile:v',
    'main',
    '-bf',
    '0',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(job.gopFrames),
    '-keyint_min',
    String(job.gopFrames),
    '-sc_threshold',
    '0',
    '-b:v',
    v,
    '-maxrate',
    v,
    '-bufsize',
    v,
    // CBR with filler: the pattern compresses far below target otherwise, and a load test needs
    // the bytes on the wire to match the nominal bitrate.
    '-x264-params',
    'nal-hrd=cbr',
    '-c:a',
    'copy',
    '-f',
    'mpegts',
    'out.ts',
  );
  core.FS.unlink('a.aac');

  phase = 'remux';
  post({ type: 'progress', phase, fraction: 0 });
  ff('-i', 'out.ts', '-c', 'copy', '-f', 'flv', 'out.flv');
  const ts = core.FS.readFile('out.ts');
  const flv = core.FS.readFile('out.flv');
  writeFileSync(join(job.out, `${job.quality}.ts`), ts);
  writeFileSync(join(job.out, `${job.quality}.flv`), flv);

  if (job.alarmJpeg) {
    const alarm = job.fontPath
      ? `,drawtext=fontfile=/font.ttf:text='ALARM':x=230:y=150:fontsize=64:fontcolor=red:box=1:boxcolor=white@0.8`
      : '';
    ff(
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=640x360:rate=1${alarm}`,
      '-frames:v',
      '1',
      '-q:v',
      '5',
      'alarm.jpg',
    );
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
