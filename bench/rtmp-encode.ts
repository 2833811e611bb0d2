// The publisher's per-byte JS work without sockets: chunk-encodes every tag of one loop of a
// rendition into a batch buffer, as RtmpPublisher.serve() does in `copy` mode, with and without
// the stream clock spliced into key frames. Isolates what the clock adds from the write() syscall
// and from other processes' noise (bench/rtmp.ts measures the whole).
//
//   npx tsc -p . && node dist/bench/rtmp-encode.js [quality] [loops per run, default 50]
import { loadCatalogue, type Quality } from '../src/media/catalogue.js';
import { loadFlv, TAG_VIDEO } from '../src/media/flv.js';
import { ChunkWriter, maxHeaderBytes } from '../src/media/rtmp/chunk-writer.js';
import { CSID_AUDIO, CSID_VIDEO, MSG_AUDIO, MSG_VIDEO } from '../src/media/rtmp/constants.js';
import { clockTemplates, writeClockDigits } from '../src/media/rtmp/stream-clock.js';

const quality = (process.argv[2] ?? 'ld') as Quality;
const loops = Number(process.argv[3] ?? 50);
const media = await loadFlv(loadCatalogue().rendition(quality).flvPath);
const templates = clockTemplates(media);

/** One loop in 200 ms batches (5 per second of media, as the default send window). */
function encodeLoop(writer: ChunkWriter, clock: boolean, base: number): number {
  let bytes = 0;
  let i = 0;
  const tags = media.tags;
  for (let windowEnd = 200; i < tags.length; windowEnd += 200) {
    let j = i;
    let size = 0;
    while (j < tags.length && (tags[j]?.timestamp as number) < windowEnd) {
      const length = ((clock ? templates.payloads[j] : null) ?? (tags[j] as (typeof tags)[number]).payload)
        .length;
      size += length + maxHeaderBytes(length, writer.chunkSize);
      j++;
    }
    const out = Buffer.allocUnsafe(size);
    let off = 0;
    let wall = 0;
    for (; i < j; i++) {
      const t = tags[i] as (typeof tags)[number];
      const video = t.type === TAG_VIDEO;
      let payload = t.payload;
      const template = clock ? templates.payloads[i] : null;
      if (template) {
        wall ||= Date.now();
        writeClockDigits(template, templates.digitsAt[i] as number, wall);
        payload = template;
      }
      off = writer.encodeTo(
        out,
        off,
        video ? CSID_VIDEO : CSID_AUDIO,
        video ? MSG_VIDEO : MSG_AUDIO,
        1,
        base + t.timestamp,
        payload,
      );
    }
    bytes += off;
  }
  return bytes;
}

function run(clock: boolean): { ms: number; bytes: number } {
  const writer = new ChunkWriter();
  writer.setChunkSize(60000);
  let bytes = 0;
  const t0 = performance.now();
  for (let k = 0; k < loops; k++) bytes += encodeLoop(writer, clock, k * media.loopDuration);
  return { ms: performance.now() - t0, bytes };
}

run(true);
run(false); // warm-up
// Wall time of many short runs, alternating; the fastest run of each kind is the one no other
// process interrupted (CPU-time accounting is too coarse for runs this short).
const best = { on: Number.POSITIVE_INFINITY, off: Number.POSITIVE_INFINITY };
const perMB = (r: { ms: number; bytes: number }) => (r.ms * 1e3) / (r.bytes / 1e6);
for (let r = 0; r < 60; r++) {
  for (const clock of r % 2 === 0 ? [true, false] : [false, true]) {
    const v = perMB(run(clock));
    if (clock) best.on = Math.min(best.on, v);
    else best.off = Math.min(best.off, v);
  }
}
console.log(
  `chunk-encode ${quality}, best of 60 runs of ${loops} loops: without clock ${best.off.toFixed(1)} µs per MB, ` +
    `with clock ${best.on.toFixed(1)} µs per MB (${(((best.on - best.off) / best.off) * 100).toFixed(1)} %)`,
);
