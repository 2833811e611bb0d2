import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadCatalogue } from '../src/media/catalogue.js';
import { TsLoop } from '../src/media/ts/loop.js';
import {
  isUnitStart,
  pcrOffset,
  pidOf,
  readPcrBase,
  readTimestamp,
  TS_PACKET_SIZE,
  TS_WRAP,
  writePcrBase,
  writeTimestamp,
} from '../src/media/ts/packet.js';
import { pesData, readTs, TsFormatError } from '../src/media/ts/reader.js';
import type { TsSegment } from '../src/media/ts/segmenter.js';

const ld = loadCatalogue().rendition('ld');
const ldBytes = readFileSync(ld.tsPath);
const tmp = mkdtempSync(join(tmpdir(), 'ivt-seg-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Probed {
  streams: { index: number; codec_name: string; codec_type: string }[];
  packets: { stream_index: number; pts: number; dts: number; flags: string }[];
}

function probe(bytes: Buffer, name: string): Probed {
  const file = join(tmp, name);
  writeFileSync(file, bytes);
  const out = execFileSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-show_entries',
      'stream=index,codec_name,codec_type:packet=stream_index,pts,dts,flags',
      '-of',
      'json',
      file,
    ],
    { maxBuffer: 64 << 20 },
  );
  return JSON.parse(out.toString()) as Probed;
}

/** Decodes every frame; returns ffmpeg's warnings and errors (empty when the stream is clean). */
function decodeProblems(bytes: Buffer, name: string): string {
  const file = join(tmp, name);
  writeFileSync(file, bytes);
  const r = spawnSync('ffmpeg', ['-hide_banner', '-v', 'warning', '-i', file, '-f', 'null', '-'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr.trim();
}

/** Per stream type: the set of dts steps between consecutive packets. */
function steps(p: Probed): Map<string, Map<number, number>> {
  const last = new Map<number, number>();
  const out = new Map<string, Map<number, number>>();
  for (const pk of p.packets) {
    const type = p.streams.find((s) => s.index === pk.stream_index)!.codec_type;
    const prev = last.get(pk.stream_index);
    if (prev !== undefined) {
      const m = out.get(type) ?? new Map<number, number>();
      m.set(pk.dts - prev, (m.get(pk.dts - prev) ?? 0) + 1);
      out.set(type, m);
    }
    last.set(pk.stream_index, pk.dts);
  }
  return out;
}

/** Our own check of the raw packets: continuity counters per PID and PCR never going back. */
function checkTransport(bytes: Buffer): void {
  const cc = new Map<number, number>();
  let lastPcr = -1;
  let pcrTurns = 0;
  for (let at = 0; at < bytes.length; at += TS_PACKET_SIZE) {
    assert.equal(bytes[at], 0x47, `sync at ${at}`);
    const pid = pidOf(bytes, at);
    const payload = (bytes[at + 3]! & 0x10) !== 0;
    const c = bytes[at + 3]! & 0x0f;
    const prev = cc.get(pid);
    if (prev !== undefined) assert.equal(c, payload ? (prev + 1) & 15 : prev, `CC of PID ${pid} at ${at}`);
    cc.set(pid, c);
    const off = pcrOffset(bytes, at);
    if (off) {
      let pcr = readPcrBase(bytes, at + off) + pcrTurns * TS_WRAP;
      if (pcr < lastPcr - TS_WRAP / 2) {
        pcrTurns++;
        pcr += TS_WRAP;
      }
      assert.ok(pcr >= lastPcr, `PCR went back at ${at}`);
      lastPcr = pcr;
    }
  }
}

describe('TS reader', () => {
  const index = readTs(ldBytes);

  test('finds the program, the access units and a key frame every second', () => {
    assert.deepEqual(
      index.streams.map((s) => [s.kind, s.streamType]),
      [
        ['video', 0x1b],
        ['audio', 0x0f],
      ],
    );
    const video = index.pes.filter((u) => u.kind === 'video');
    assert.equal(video.length, ld.durationSeconds * ld.fps);
    const keys = video.filter((u) => u.key);
    assert.equal(keys.length, ld.durationSeconds);
    assert.deepEqual(
      keys.map((k) => k.pts - keys[0]!.pts),
      keys.map((_, n) => n * 90_000),
    );
    // a key access unit holds an IDR slice (type 5), a non-key one does not
    const nalTypes = (unit: number) => {
      const d = pesData(index, unit);
      const types: number[] = [];
      for (let i = 0; i + 3 < d.length; i++)
        if (d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 1) types.push(d[i + 3]! & 0x1f);
      return types;
    };
    assert.ok(nalTypes(index.pes.indexOf(keys[1]!)).includes(5));
    assert.ok(!nalTypes(index.pes.indexOf(video[1]!)).includes(5));
  });

  test('finds key frames by their IDR NAL when the muxer sets no random-access flag', () => {
    const copy = Buffer.from(ldBytes);
    for (let at = 0; at < copy.length; at += TS_PACKET_SIZE) {
      if ((copy[at + 3]! & 0x20) !== 0 && copy[at + 4]! > 0) copy[at + 5] = copy[at + 5]! & ~0x40;
    }
    const keys = readTs(copy).pes.filter((u) => u.kind === 'video' && u.key);
    assert.deepEqual(
      keys.map((u) => u.pts),
      index.pes.filter((u) => u.key).map((u) => u.pts),
    );
  });

  test('AAC units know their duration from the ADTS headers: the audio spans exactly the pass', () => {
    const audio = index.pes.filter((u) => u.kind === 'audio');
    assert.equal(
      audio.reduce((sum, u) => sum + u.duration, 0),
      ld.durationSeconds * 90_000,
    );
  });

  test('rejects what is not a transport stream', () => {
    assert.throws(() => readTs(Buffer.alloc(1000)), TsFormatError);
    assert.throws(() => readTs(Buffer.alloc(188 * 3)), TsFormatError);
    const flv = readFileSync(loadCatalogue().rendition('ld').flvPath);
    assert.throws(() => readTs(flv.subarray(0, 188 * 10)), TsFormatError);
  });

  test('timestamps and PCR survive the 33-bit wrap', () => {
    const b = Buffer.from([0x21, 0, 1, 0, 1]);
    const pcr = Buffer.from([0, 0, 0, 0, 0x7f, 0xff]);
    for (const t of [0, 1, 90_000, 2 ** 32 + 12345, TS_WRAP - 1]) {
      writeTimestamp(b, 0, t);
      assert.equal(readTimestamp(b, 0), t);
      assert.equal(b[0]! >> 4, 0x2, 'prefix kept');
      writePcrBase(pcr, 0, t);
      assert.equal(readPcrBase(pcr, 0), t);
      assert.deepEqual([pcr[4]! & 0x7f, pcr[5]], [0x7f, 0xff], 'extension kept');
    }
    writeTimestamp(b, 0, TS_WRAP + 7);
    assert.equal(readTimestamp(b, 0), 7);
  });
});

describe('TS segmenter', () => {
  const loop = new TsLoop(ldBytes);

  test('the loop is one pass of the file: 8 GOPs, 8 s, 40 ms frames', () => {
    assert.equal(TsLoop.shared(ld.tsPath), TsLoop.shared(ld.tsPath), 'one shared loop per file');
    assert.equal(loop.gopCount, ld.durationSeconds);
    assert.equal(loop.periodSeconds, ld.durationSeconds);
    assert.equal(loop.frameTicks, 3600);
  });

  test('segments over several passes concatenate into one continuous, decodable stream', () => {
    const seg = loop.segmenter();
    const segments: TsSegment[] = [];
    for (let k = 0; k < 5; k++) segments.push(seg.next(10)); // 50 s = 6.25 passes
    segments.forEach((s, k) => {
      assert.equal(s.mediaStartSec, k * 10);
      assert.equal(s.durationSec, 10);
      assert.equal(s.keyframes, 10);
      assert.ok(s.startsWithKeyframe && !s.cutBySize);
    });
    const all = Buffer.concat(segments.map((s) => s.bytes));
    checkTransport(all);
    const p = probe(all, 'all.ts');
    const video = p.packets.filter((pk) => pk.stream_index === 0);
    assert.equal(video.length, 50 * 25);
    assert.equal(video.filter((pk) => pk.flags.startsWith('K')).length, 50);
    const s = steps(p);
    // every frame exactly one frame after the previous one, across every loop boundary
    assert.deepEqual([...s.get('video')!.keys()], [3600]);
    assert.deepEqual([...s.get('audio')!.keys()], [1920]);
    assert.equal(decodeProblems(all, 'all-decode.ts'), '');
  });

  test('each segment is a standalone TS that starts with a key frame', () => {
    const seg = loop.segmenter({ startGop: 5 });
    for (let k = 0; k < 3; k++) {
      const s = seg.next(4);
      assert.equal(pidOf(s.bytes, 0), 0, 'PAT first');
      assert.equal(pidOf(s.bytes, TS_PACKET_SIZE), readTs(ldBytes).pmtPid, 'PMT second');
      assert.ok(isUnitStart(s.bytes, 2 * TS_PACKET_SIZE));
      const p = probe(s.bytes, `alone${k}.ts`);
      assert.deepEqual(p.streams.map((x) => x.codec_name).sort(), ['aac', 'h264']);
      const firstVideo = p.packets.find((pk) => p.streams[pk.stream_index]!.codec_type === 'video')!;
      assert.ok(firstVideo.flags.startsWith('K'), `segment ${k} opens on a key frame`);
      assert.equal(decodeProblems(s.bytes, `alone-decode${k}.ts`), '');
    }
  });

  test('a start GOP picks where in the pass the recording begins', () => {
    const s = loop.segmenter({ startGop: 6 }).next(3);
    assert.equal(s.pts, loop.gopPts[6]);
    assert.equal(s.mediaStartSec, 0);
    assert.equal(s.durationSec, 3);
    assert.throws(() => loop.segmenter({ startGop: 8 }), RangeError);
  });

  test('a duration that is not whole GOPs cuts at the next key frame (within one GOP)', () => {
    const seg = loop.segmenter();
    for (let k = 0; k < 4; k++) {
      const s = seg.next(2.5);
      assert.ok(s.durationSec >= 2.5 && s.durationSec < 2.5 + ld.gopSeconds, String(s.durationSec));
      assert.ok(s.startsWithKeyframe);
    }
  });

  test('seg_max_size cuts early at a key frame', () => {
    const gopBytes = ldBytes.length / ld.durationSeconds;
    const cap = Math.round(gopBytes * 2.5);
    const seg = loop.segmenter();
    let media = 0;
    for (let k = 0; k < 6; k++) {
      const s = seg.next(10, cap);
      assert.ok(s.bytes.length <= cap, `${s.bytes.length} > ${cap}`);
      assert.ok(s.cutBySize && s.startsWithKeyframe);
      assert.equal(s.mediaStartSec, media);
      assert.ok(s.durationSec >= 1 && s.durationSec <= 3, String(s.durationSec));
      media += s.durationSec;
    }
  });

  test('a foreign TS (B-frames, 2 s GOPs, 44.1 kHz audio not aligned to the loop) still loops cleanly', () => {
    const file = join(tmp, 'bframes.ts');
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=30'],
      ...[
        '-f',
        'lavfi',
        '-i',
        'sine=sample_rate=44100',
        '-t',
        '5',
        '-c:v',
        'libx264',
        '-g',
        '60',
        '-bf',
        '2',
      ],
      ...['-c:a', 'aac', '-f', 'mpegts', file],
    ]);
    const foreign = TsLoop.fromFile(file);
    assert.equal(foreign.gopCount, 3);
    assert.equal(foreign.periodSeconds, 5);
    const seg = foreign.segmenter();
    const parts: Buffer[] = [];
    for (let k = 0; k < 6; k++) {
      const s = seg.next(3);
      assert.ok(s.startsWithKeyframe);
      assert.ok(s.durationSec >= 3 && s.durationSec <= 5, String(s.durationSec));
      parts.push(s.bytes);
    }
    const all = Buffer.concat(parts);
    checkTransport(all);
    const p = probe(all, 'bframes-all.ts');
    for (const [kind, m] of steps(p))
      assert.ok(
        [...m.keys()].every((d) => d > 0),
        `${kind} dts monotonic`,
      );
    assert.ok(
      p.packets.some((pk) => pk.pts !== pk.dts),
      'B-frames kept',
    );
    assert.equal(decodeProblems(all, 'bframes-decode.ts'), '');
  });

  test('a cap below one GOP cuts at the size and the stream still runs on', () => {
    const cap = 60 * TS_PACKET_SIZE;
    const seg = loop.segmenter();
    const parts: Buffer[] = [];
    let media = 0;
    let midGop = 0;
    // stop at a key frame so the concatenation does not end inside a frame
    while (parts.length < 4 || !seg.atKeyframe) {
      const s = seg.next(10, cap);
      assert.ok(s.bytes.length <= cap);
      assert.ok(Math.abs(s.mediaStartSec - media) < 1e-9);
      if (!s.startsWithKeyframe) midGop++;
      media += s.durationSec;
      parts.push(s.bytes);
    }
    assert.ok(midGop > 0);
    const all = Buffer.concat(parts);
    checkTransport(all);
    assert.deepEqual([...steps(probe(all, 'small.ts')).get('video')!.keys()], [3600]);
    assert.equal(decodeProblems(all, 'small-decode.ts'), '');
    assert.throws(() => seg.next(10, 2 * TS_PACKET_SIZE), RangeError);
  });
});
