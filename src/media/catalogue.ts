// The rendition catalogue: reads a ladder directory's manifest.json (validated), and answers
// "which files and which figures for quality X". Loaded once per process and shared read-only.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Static, Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';

import { QUALITIES, type Quality } from '../core/quality.js';

export { isQuality, QUALITIES, type Quality } from '../core/quality.js';

const FileName = Type.String({ minLength: 1, pattern: '^[^/\\\\]+$' });
const Positive = Type.Number({ exclusiveMinimum: 0 });
const Count = Type.Integer({ minimum: 0 });

const RenditionEntry = Type.Object({
  flv: FileName,
  ts: FileName,
  nominalBitrate: Type.Integer({ exclusiveMinimum: 0 }),
  bitrate: Type.Integer({ exclusiveMinimum: 0 }),
  videoBitrate: Count,
  audioBitrate: Count,
  width: Type.Integer({ minimum: 16 }),
  height: Type.Integer({ minimum: 16 }),
  fps: Positive,
  gopSeconds: Positive,
  durationSeconds: Positive,
  keyframes: Type.Integer({ minimum: 1 }),
  flvBytes: Count,
  tsBytes: Count,
  video: Type.Optional(Type.Object({ codec: Type.String(), profile: Type.Optional(Type.String()) })),
  audio: Type.Optional(
    Type.Object({ codec: Type.String(), sampleRate: Type.Integer(), channels: Type.Integer() }),
  ),
});

export const ManifestSchema = Type.Object({
  version: Type.Literal(1),
  generator: Type.Optional(Type.String()),
  renditions: Type.Object({
    ld: RenditionEntry,
    sd: RenditionEntry,
    hd: RenditionEntry,
    fhd: RenditionEntry,
  }),
  alarmJpeg: Type.Optional(
    Type.Object({ file: FileName, bytes: Count, width: Type.Integer(), height: Type.Integer() }),
  ),
});

export type Manifest = Static<typeof ManifestSchema>;
export type RenditionEntry = Static<typeof RenditionEntry>;

const validateManifest = new Ajv({ allErrors: true }).compile<Manifest>(ManifestSchema);

export interface Rendition {
  quality: Quality;
  /** Absolute paths. */
  flvPath: string;
  tsPath: string;
  /**
   * The bitrate a device declares for this quality (contract item 7: compared with `max_bitrate`).
   * The encoder target, or the caller's override.
   */
  nominalBitrate: number;
  /** Measured: audio + video elementary bytes × 8 / duration, bit/s. */
  bitrate: number;
  videoBitrate: number;
  audioBitrate: number;
  width: number;
  height: number;
  fps: number;
  gopSeconds: number;
  durationSeconds: number;
  keyframes: number;
  flvBytes: number;
  tsBytes: number;
}

export interface Catalogue {
  /** Absolute media directory. */
  dir: string;
  renditions: Readonly<Record<Quality, Rendition>>;
  /** Absolute path of the alarm JPEG, or undefined when the ladder has none. */
  alarmJpegPath: string | undefined;
  rendition(quality: Quality): Rendition;
}

export interface CatalogueOptions {
  /** Ladder directory holding manifest.json; default: the repository's `media/`. */
  dir?: string;
  /**
   * Nominal bit/s per quality chosen by a scenario. It replaces the manifest's nominal figure; the
   * directory must hold a ladder built near those rates (see `tolerance`).
   */
  bitrates?: Partial<Record<Quality, number>>;
  /**
   * Largest accepted relative gap between an override and the ladder's measured bitrate
   * (default 0.2). Infinity accepts any ladder: the device then declares a rate it does not send.
   */
  tolerance?: number;
}

export class CatalogueError extends Error {
  override name = 'CatalogueError';
}

/** The committed ladder: `<repo>/media`, found from this module's location (src/ or dist/src/). */
export function defaultMediaDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const up of ['../..', '../../..']) {
    const dir = resolve(here, up, 'media');
    if (existsSync(join(dir, 'manifest.json'))) return dir;
  }
  return resolve(here, '../../../media');
}

export function parseManifest(json: unknown, source = 'manifest.json'): Manifest {
  if (validateManifest(json)) return json;
  const details = (validateManifest.errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
  throw new CatalogueError(`${source}: not a valid media manifest: ${details}`);
}

export function loadCatalogue(options: CatalogueOptions = {}): Catalogue {
  const dir = options.dir ? resolve(options.dir) : defaultMediaDir();
  const manifestPath = join(dir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (err) {
    throw new CatalogueError(
      `no media ladder in ${dir} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'} manifest.json); ` +
        'build one with `ivtfarm media build --out DIR`',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CatalogueError(`${manifestPath}: ${(err as Error).message}`);
  }
  const manifest = parseManifest(json, manifestPath);
  const tolerance = options.tolerance ?? 0.2;
  const renditions = {} as Record<Quality, Rendition>;
  for (const quality of QUALITIES) {
    const e = manifest.renditions[quality];
    const override = options.bitrates?.[quality];
    if (override !== undefined) {
      if (!(override > 0)) throw new CatalogueError(`${quality}: bitrate override must be > 0`);
      if (Math.abs(e.bitrate - override) / override > tolerance) {
        throw new CatalogueError(
          `${quality}: the ladder in ${dir} sends ${e.bitrate} bit/s, too far from the requested ${override}; ` +
            `build a matching ladder with \`ivtfarm media build --out DIR --${quality} ${override}\``,
        );
      }
    }
    const flvPath = inside(dir, e.flv);
    const tsPath = inside(dir, e.ts);
    for (const p of [flvPath, tsPath]) {
      if (!existsSync(p)) throw new CatalogueError(`${manifestPath}: ${quality} file ${p} is missing`);
    }
    renditions[quality] = Object.freeze({
      quality,
      flvPath,
      tsPath,
      nominalBitrate: override ?? e.nominalBitrate,
      bitrate: e.bitrate,
      videoBitrate: e.videoBitrate,
      audioBitrate: e.audioBitrate,
      width: e.width,
      height: e.height,
      fps: e.fps,
      gopSeconds: e.gopSeconds,
      durationSeconds: e.durationSeconds,
      keyframes: e.keyframes,
      flvBytes: e.flvBytes,
      tsBytes: e.tsBytes,
    });
  }
  const alarmJpegPath = manifest.alarmJpeg ? inside(dir, manifest.alarmJpeg.file) : undefined;
  if (alarmJpegPath && !existsSync(alarmJpegPath)) {
    throw new CatalogueError(`${manifestPath}: alarm picture ${alarmJpegPath} is missing`);
  }
  Object.freeze(renditions);
  return {
    dir,
    renditions,
    alarmJpegPath,
    rendition(quality: Quality): Rendition {
      const r = renditions[quality];
      if (!r)
        throw new CatalogueError(`unknown quality "${String(quality)}" (expected ${QUALITIES.join('|')})`);
      return r;
    },
  };
}

// The schema forbids separators already; this keeps a hand-edited manifest from escaping its dir.
function inside(dir: string, file: string): string {
  if (isAbsolute(file)) throw new CatalogueError(`media file name ${file} must be relative`);
  return join(dir, file);
}
