import { resolve } from 'node:path';
import { parseBitrate } from '../core/units.js';
import { type BuildProgress, buildLadder, type RenditionSpec } from './build.js';
import { QUALITIES, type Quality } from './catalogue.js';

export interface BuildCommandOptions {
  out?: string | number;
  ld?: string | number;
  sd?: string | number;
  hd?: string | number;
  fhd?: string | number;
  duration?: string | number;
}

/**
 * `ivtfarm media build`: parses the flags, runs the wasm encoders in a pool, prints progress per
 * rendition and the thread it runs on. `signal` (Ctrl-C) stops the encoders; no manifest is written.
 */
export async function buildMediaCommand(
  opts: BuildCommandOptions,
  out: NodeJS.WritableStream,
  signal?: AbortSignal,
): Promise<void> {
  const renditions: Partial<Record<Quality, Partial<RenditionSpec>>> = {};
  for (const q of QUALITIES) {
    const bitrate = opts[q];
    renditions[q] = bitrate !== undefined ? { bitrate: parseBitrate(String(bitrate)) } : {};
  }
  const dir = resolve(String(opts.out ?? 'media'));
  const started = Date.now();
  const last = new Map<string, string>();
  const manifest = await buildLadder({
    out: dir,
    renditions,
    durationSeconds: opts.duration !== undefined ? Number(opts.duration) : undefined,
    signal,
    onProgress: (p: BuildProgress) => {
      const line = `${p.quality}: ${p.phase}${p.threadId === undefined ? '' : ` on thread ${p.threadId}`}`;
      const overall = `${Math.round(p.overall * 100)}% of the ladder`;
      if (last.get(p.quality) !== line) {
        last.set(p.quality, line);
        out.write(`${line} (${overall})\n`);
      }
    },
  });
  out.write(
    `built ${Object.keys(manifest.renditions ?? {}).length} rendition(s) in ${Math.round((Date.now() - started) / 1000)} s → ${dir}/manifest.json\n`,
  );
}
