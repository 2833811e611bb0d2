// Rebuilds a rendition ladder at chosen bitrates/resolutions with @ffmpeg/core (wasm), so a
// scenario can use other rates on a machine without ffmpeg. Renditions encode in parallel as tasks
// of a piscina pool (at most `concurrency` threads, src/core/cpu-pool.ts); the manifest is written
// last, atomically.
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { type CpuPool, withCpuPool } from '../core/cpu-pool.js';
import type { RenditionJob, RenditionProgress, RenditionTask } from './build-worker.js';
import {
  type Catalogue,
  CatalogueError,
  loadCatalogue,
  type Manifest,
  parseManifest,
  QUALITIES,
  type Quality,
  type RenditionEntry,
} from './catalogue.js';

export interface RenditionSpec {
  width: number;
  height: number;
  /** Total nominal bit/s, audio included. */
  bitrate: number;
  /** Audio share of `bitrate`; default scales with the quality (32k … 128k, at most 1/8 of the total). */
  audioBitrate?: number;
}

/** The committed ladder's layout (media/README.md). */
export const DEFAULT_LADDER: Readonly<Record<Quality, Readonly<Required<RenditionSpec>>>> = {
  ld: { width: 320, height: 180, bitrate: 256_000, audioBitrate: 32_000 },
  sd: { width: 640, height: 360, bitrate: 512_000, audioBitrate: 64_000 },
  hd: { width: 1280, height: 720, bitrate: 2_000_000, audioBitrate: 96_000 },
  fhd: { width: 1920, height: 1080, bitrate: 4_000_000, audioBitrate: 128_000 },
};

export type BuildPhase = 'queued' | 'audio' | 'video' | 'remux' | 'measure' | 'done';

export interface BuildProgress {
  quality: Quality;
  phase: BuildPhase;
  /** This rendition's progress, 0..1 (video encoding is nearly all of the time). */
  fraction: number;
  /** Whole ladder, 0..1, weighted by pixels × frames. */
  overall: number;
  /** The pool thread encoding this rendition (absent while queued and once done). */
  threadId?: number;
}

export interface BuildOptions {
  /** Output directory (created). Files there are overwritten. */
  out: string;
  /** Per quality overrides of DEFAULT_LADDER (e.g. `{ sd: { bitrate: 800_000 } }`). */
  renditions?: Partial<Record<Quality, Partial<RenditionSpec>>>;
  /**
   * Seconds per file, default 8. Must give whole AAC frames at 48 kHz (a multiple of 8 s, or of
   * 2 s with `audioRate` 16000/32000) so a looped stream has neither gap nor overlap.
   */
  durationSeconds?: number;
  fps?: number;
  gopSeconds?: number;
  audioRate?: 16_000 | 32_000 | 48_000;
  /** x264 preset, default "fast" (as the committed ladder). */
  preset?: string;
  /** Renditions encoded at once (pool threads); default and ceiling min(4, available parallelism). */
  concurrency?: number;
  /** Host TrueType font for the burnt-in clock; default: DejaVu Sans Mono if installed. */
  fontPath?: string | null;
  onProgress?: (progress: BuildProgress) => void;
  signal?: AbortSignal;
}

export class BuildError extends Error {
  override name = 'BuildError';
}

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf',
  '/System/Library/Fonts/Menlo.ttc',
];

const PRESETS = new Set([
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
]);

/** Resolves the options into one encoder job per quality; throws BuildError on a bad value. */
export function planLadder(options: BuildOptions): RenditionJob[] {
  const fps = options.fps ?? 25;
  const gopSeconds = options.gopSeconds ?? 1;
  const durationSeconds = options.durationSeconds ?? 8;
  const audioRate = options.audioRate ?? 48_000;
  const preset = options.preset ?? 'fast';
  const gopFrames = gopSeconds * fps;
  if (!Number.isInteger(fps) || fps < 1 || fps > 60) throw new BuildError('fps must be an integer in 1..60');
  if (!Number.isInteger(gopFrames) || gopFrames < 1)
    throw new BuildError('gopSeconds × fps must be a whole number of frames');
  if (!(durationSeconds > 0) || !Number.isInteger((durationSeconds * fps) / gopFrames)) {
    throw new BuildError('durationSeconds must hold a whole number of GOPs');
  }
  if (![16_000, 32_000, 48_000].includes(audioRate))
    throw new BuildError('audioRate must be 16000, 32000 or 48000');
  if (!Number.isInteger((durationSeconds * audioRate) / 1024)) {
    throw new BuildError(
      `durationSeconds ${durationSeconds} does not hold whole AAC frames at ${audioRate} Hz ` +
        '(use a multiple of 8 s at 48 kHz, of 4 s at 32 kHz or 16 kHz), so the loop would not be seamless',
    );
  }
  if (!PRESETS.has(preset)) throw new BuildError(`unknown x264 preset "${preset}"`);
  const out = resolve(options.out);
  const fontPath =
    options.fontPath === null ? undefined : (options.fontPath ?? FONT_CANDIDATES.find((f) => existsSync(f)));
  if (fontPath && !existsSync(fontPath)) throw new BuildError(`font ${fontPath} not found`);
  return QUALITIES.map((quality, n) => {
    const spec = { ...DEFAULT_LADDER[quality], ...options.renditions?.[quality] };
    const { width, height, bitrate } = spec;
    if (
      !Number.isInteger(width) ||
      !Number.isInteger(height) ||
      width < 16 ||
      height < 16 ||
      width % 2 ||
      height % 2
    ) {
      throw new BuildError(
        `${quality}: width and height must be even integers ≥ 16 (got ${width}x${height})`,
      );
    }
    if (width > 4096 || height > 2304)
      throw new BuildError(`${quality}: ${width}x${height} is larger than 4096x2304`);
    if (!Number.isFinite(bitrate) || bitrate < 32_000 || bitrate > 50_000_000) {
      throw new BuildError(`${quality}: bitrate must be between 32k and 50M bit/s (got ${bitrate})`);
    }
    // An explicit total with no explicit audio share: keep audio ≤ 1/8 of it (≥ 16k).
    const overridden = options.renditions?.[quality];
    const audioBitrate =
      overridden?.audioBitrate ??
      (overridden?.bitrate !== undefined
        ? Math.max(16_000, Math.min(DEFAULT_LADDER[quality].audioBitrate, Math.round(bitrate / 8)))
        : DEFAULT_LADDER[quality].audioBitrate);
    if (audioBitrate < 8_000 || audioBitrate > bitrate / 2) {
      throw new BuildError(`${quality}: audioBitrate must be between 8k and half the total`);
    }
    return {
      quality,
      width,
      height,
      videoBitrate: bitrate - audioBitrate,
      audioBitrate,
      nominalBitrate: bitrate,
      fps,
      gopFrames,
      durationSeconds,
      audioRate,
      preset,
      out,
      fontPath,
      alarmJpeg: n === 0,
    };
  });
}

/**
 * Encodes the four renditions (H.264 Main without B-frames + AAC, testsrc2 with a running clock,
 * GOP `gopSeconds`), writes `<q>.ts`, `<q>.flv`, `alarm.jpg` and `manifest.json` (figures
 * measured from the encoded TS) into `options.out`, and returns the manifest.
 */
export async function buildLadder(options: BuildOptions): Promise<Manifest> {
  const jobs = planLadder(options);
  const out = jobs[0]!.out;
  mkdirSync(out, { recursive: true });
  const weight = new Map(jobs.map((j) => [j.quality, j.width * j.height]));
  const totalWeight = [...weight.values()].reduce((a, b) => a + b, 0);
  const done = new Map<string, number>();
  const report: ReportProgress = (quality, phase, fraction, threadId) => {
    done.set(quality, fraction);
    if (!options.onProgress) return;
    let overall = 0;
    for (const [q, f] of done) overall += (f * weight.get(q)!) / totalWeight;
    options.onProgress({
      quality,
      phase,
      fraction,
      overall,
      ...(threadId === undefined ? {} : { threadId }),
    });
  };
  for (const j of jobs) report(j.quality as Quality, 'queued', 0);

  // One failed rendition stops the others too; the caller's abort stops them all.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const entries = new Map<Quality, RenditionEntry>();
  const task = new URL('./build-worker.js', import.meta.url);
  try {
    await withCpuPool<RenditionTask, RenditionEntry, void>(
      { task, maxThreads: Math.min(jobs.length, options.concurrency ?? jobs.length) },
      async (pool) => {
        // Biggest first: the longest encode starts at once, the small ones fill the other threads.
        const queue = [...jobs].sort((a, b) => b.width * b.height - a.width * a.height);
        await Promise.all(
          queue.map(async (job) => {
            try {
              entries.set(job.quality as Quality, await encode(pool, job, report, signal));
            } catch (err) {
              stop.abort(err);
              throw err;
            }
          }),
        );
      },
    );
  } catch (err) {
    throw options.signal?.aborted ? options.signal.reason : (stop.signal.reason ?? err);
  }

  const manifest = parseManifest({
    version: 1,
    generator: 'ivtfarm media build (@ffmpeg/core wasm, measured from the TS)',
    renditions: Object.fromEntries(QUALITIES.map((q) => [q, entries.get(q)])),
    alarmJpeg: { file: 'alarm.jpg', bytes: statSync(join(out, 'alarm.jpg')).size, width: 640, height: 360 },
  });
  const tmp = join(out, `.manifest.${process.pid}.json`);
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmp, join(out, 'manifest.json'));
  return manifest;
}

type ReportProgress = (quality: Quality, phase: BuildPhase, fraction: number, threadId?: number) => void;

/** Runs one rendition in the pool; its progress comes back over a MessageChannel. */
async function encode(
  pool: CpuPool<RenditionTask, RenditionEntry>,
  job: RenditionJob,
  report: ReportProgress,
  signal: AbortSignal,
): Promise<RenditionEntry> {
  const quality = job.quality as Quality;
  const { port1, port2 } = new MessageChannel();
  let finished = false;
  port1.on('message', (m: RenditionProgress) => {
    // The result and the progress travel on different ports: a late message must not undo `done`.
    if (finished) return;
    // audio ≈ 2 %, video ≈ 95 %, remux and measuring the rest
    const base = { audio: 0, video: 0.02, remux: 0.97, measure: 0.99 }[m.phase];
    const span = m.phase === 'video' ? 0.95 : 0;
    report(quality, m.phase, base + span * m.fraction, m.threadId);
  });
  try {
    const entry = await pool.run({ job, progress: port2 }, { signal, transferList: [port2] });
    finished = true;
    report(quality, 'done', 1);
    return entry;
  } catch (err) {
    if (signal.aborted) throw err;
    throw new BuildError(`${quality}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    port1.close();
  }
}

/** Subdirectory name of a built ladder in the cache: `ld256000-sd512000-hd2000000-fhd4000000`. */
export function ladderCacheKey(bitrates: Partial<Record<Quality, number>>): string {
  return QUALITIES.map((q) => `${q}${Math.round(bitrates[q] ?? DEFAULT_LADDER[q].bitrate)}`).join('-');
}

export interface EnsureLadderOptions extends Omit<BuildOptions, 'out' | 'renditions'> {
  /** Nominal bit/s per quality wanted by the scenario (`media:` section). */
  bitrates: Partial<Record<Quality, number>>;
  /** Ladder directory to use when it already matches (default: the committed media/). */
  dir?: string;
  /** Where built ladders are kept, one subdirectory per set of rates; default ~/.cache/ivtfarm/media. */
  cacheDir?: string;
}

/**
 * The catalogue for a scenario's bitrates: the given (or committed) ladder when it sends those
 * rates, else a cached ladder built at them, building it now if needed (minutes for hd/fhd).
 * Several processes may race: each builds into its own directory and the first rename wins.
 */
export async function ensureLadder(options: EnsureLadderOptions): Promise<Catalogue> {
  const { bitrates } = options;
  try {
    return loadCatalogue({ dir: options.dir, bitrates });
  } catch (err) {
    if (!(err instanceof CatalogueError) || !/too far from the requested/.test(err.message)) throw err;
  }
  const key = ladderCacheKey(bitrates);
  const root = resolve(options.cacheDir ?? join(homedir(), '.cache', 'ivtfarm', 'media'));
  const dir = join(root, key);
  // Built for exactly these rates: accept what the encoder achieved as the best available.
  if (existsSync(join(dir, 'manifest.json'))) return loadCatalogue({ dir, bitrates, tolerance: Infinity });
  const work = join(root, `.${key}.${process.pid}.${Date.now()}`);
  const renditions: Partial<Record<Quality, Partial<RenditionSpec>>> = {};
  for (const q of QUALITIES) if (bitrates[q] !== undefined) renditions[q] = { bitrate: bitrates[q] };
  try {
    await buildLadder({ ...options, out: work, renditions });
    try {
      renameSync(work, dir);
    } catch (err) {
      if (!existsSync(join(dir, 'manifest.json'))) throw err; // not a lost race
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return loadCatalogue({ dir, bitrates, tolerance: Infinity });
}
