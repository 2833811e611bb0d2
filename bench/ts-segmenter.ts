// Cost of cutting recording segments from a shared TsLoop: one-off indexing per rendition, then
// CPU per segment (one copy of the segment's bytes + timestamp/CC patches).
// Run: npx tsc -p . ; node dist/bench/ts-segmenter.js [segSeconds] [segments]
import { readFileSync } from 'node:fs';
import { loadCatalogue, QUALITIES } from '../src/media/catalogue.js';
import { TsLoop } from '../src/media/ts/loop.js';

const segSeconds = Number(process.argv[2] ?? 10);
const count = Number(process.argv[3] ?? 50);
const cat = loadCatalogue();
for (const q of QUALITIES) {
  const bytes = readFileSync(cat.rendition(q).tsPath);
  let t = process.hrtime.bigint();
  const loop = new TsLoop(bytes);
  const indexMs = Number(process.hrtime.bigint() - t) / 1e6;
  const seg = loop.segmenter();
  for (let k = 0; k < 10; k++) seg.next(segSeconds); // warm-up (JIT)
  let total = 0;
  t = process.hrtime.bigint();
  for (let k = 0; k < count; k++) total += seg.next(segSeconds).bytes.length;
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(
    `${q.padEnd(3)} index ${indexMs.toFixed(1)} ms | ${segSeconds} s segments: ${(ms / count).toFixed(2)} ms each, ` +
      `${(total / count / 1e6).toFixed(2)} MB, ${(total / 1e6 / (ms / 1000)).toFixed(0)} MB/s`,
  );
}
