// piscina task (src/core/cpu-pool.ts): encodes one rendition with @ffmpeg/core (ffmpeg 5.1 compiled
// to wasm, single threaded), writes <q>.ts and <q>.flv into the output directory and measures them
// without ffprobe. A pool thread runs several renditions one after the other, each in a fresh wasm
// instance (new linear memory, new Module object): ffmpeg's global state and the grown heap of the
// previous rendition are never seen again. Only the compiled code, which holds no state, is kept.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MessagePort, threadId } from 'node:worker_threads';
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

export interface RenditionTask {
  job: RenditionJob;
  /** Where progress goes (transferred with the task; closed when the task ends). */
  progress: MessagePort;
}

export interface RenditionProgress {
  phase: 'audio' | 'video' | 'remux' | 'measure';
  fraction: number;
  /** The pool thread encoding this rendition. */
  threadId: number;
}

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

// The slice of the WebAssembly API used here (the project's `lib` has no DOM typings).
type WasmModule = object;
type WasmInstance = object;
declare const WebAssembly: {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<WasmInstance>;
};

type ReceiveInstance = (instance: WasmInstance, module: WasmModule) => void;
type CreateCore = (module: {
  instantiateWasm: (imports: object, receive: ReceiveInstance) => object;
}) => Promise<FFmpegCore>;

let compiled: Promise<{ create: CreateCore; wasm: WasmModule }> | undefined;

/** The core's factory and its compiled wasm code, loaded once per pool thread. */
function compileCore(): Promise<{ create: CreateCore; wasm: WasmModule }> {
  compiled ??= (async () => {
    const coreUrl = import.meta.resolve('@ffmpeg/core');
    // The core is built for browser workers: it only needs `self.location` to find itself, and
    // the wasm handed over directly (no fetch).
    (globalThis as { self?: unknown }).self = { location: { href: coreUrl } };
    const { default: create } = (await import(coreUrl)) as { default: CreateCore };
    const bytes = readFileSync(join(dirname(fileURLToPath(coreUrl)), 'ffmpeg-core.wasm'));
    return { create, wasm: await WebAssembly.compile(bytes) };
  })();
  return compiled;
}

/** A fresh ffmpeg: the factory is given a new Module object (it keeps its state there) and a new instance. */
async function freshCore(): Promise<FFmpegCore> {
  const { create, wasm } = await compileCore();
  return new Promise((resolve, reject) => {
    create({
      instantiateWasm: (imports, receive) => {
        WebAssembly.instantiate(wasm, imports).then((instance) => receive(instance, wasm), reject);
        return {}; // emscripten's "instantiation is asynchronous" answer
      },
    }).then(resolve, reject);
  });
}

/** Encodes `task.job`; the pool's default export. */
export default async function encodeRendition({ job, progress }: RenditionTask): Promise<RenditionEntry> {
  try {
    return await encode(job, (message) => progress.postMessage({ ...message, threadId }));
  } finally {
    progress.close();
  }
}

async function encode(
  job: RenditionJob,
  post: (message: Omit<RenditionProgress, 'threadId'>) => void,
): Promise<RenditionEntry> {
  const core = await freshCore();
  const totalFrames = job.durationSeconds * job.fps;
  let log: string[] = [];
  let phase: 'audio' | 'video' | 'remux' = 'audio';
  core.setLogger(({ message }) => {
    log.push(message);
    if (log.length > 200) log = log.slice(-50);
    const m = phase === 'video' ? /frame=\s*(\d+)/.exec(message) : null;
    if (m) post({ phase, fraction: Math.min(1, Number(m[1]) / totalFrames) });
  });
  const ff = (...args: string[]): void => {
    const rc = core.exec('-hide_banner', '-nostdin', '-y', ...args);
    core.reset();
    if (rc !== 0) throw new Error(`ffmpeg (wasm) failed with ${rc}: ${log.slice(-8).join('\n')}`);
  };

  if (job.fontPath) core.FS.writeFile('/font.ttf', readFileSync(job.fontPath));
  const args: RenditionArgs = { ...job, fontPath: job.fontPath ? '/font.ttf' : null };
  post({ phase, fraction: 0 });
  ff(...audioArgs(args, 'a.aac'));

  phase = 'video';
  post({ phase, fraction: 0 });
  ff(...encodeArgs(args, 'a.aac', 'out.ts'));
  core.FS.unlink('a.aac');

  phase = 'remux';
  post({ phase, fraction: 0 });
  ff(...remuxFlvArgs('out.ts', 'out.flv'));
  const ts = core.FS.readFile('out.ts');
  const flv = core.FS.readFile('out.flv');
  writeFileSync(join(job.out, `${job.quality}.ts`), ts);
  writeFileSync(join(job.out, `${job.quality}.flv`), flv);

  if (job.alarmJpeg) {
    ff(...alarmJpegArgs(args.fontPath, 'alarm.jpg'));
    writeFileSync(join(job.out, 'alarm.jpg'), core.FS.readFile('alarm.jpg'));
  }

  post({ phase: 'measure', fraction: 1 });
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
