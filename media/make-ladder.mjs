#!/usr/bin/env node
// Builds the committed rendition ladder with the *system* ffmpeg/ffprobe (Debian ffmpeg 5.1).
// Run from anywhere: `node media/make-ladder.mjs [outDir]` (default: this directory).
// The wasm rebuild used at run time lives in src/media/build.ts; this script is what produced
// the files checked into git, and it measures them with ffprobe for manifest.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The same command lines as `ivtfarm media build` (build first: `npm run build`).
import { alarmJpegArgs, audioArgs, encodeArgs, remuxFlvArgs } from '../dist/src/media/ladder-args.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? here;

// 8 s is the shortest loop in which both 25 fps video (200 frames) and 48 kHz AAC
// (375 frames of 1024 samples) end exactly together, so a looped stream has no audio gap/overlap.
const DURATION = 8;
const FPS = 25;
const GOP = 25; // frames: exactly 1 s, so a recording segment can start on any second
const AUDIO_RATE = 48000;
const AUDIO_FRAMES = (DURATION * AUDIO_RATE) / 1024;
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf';

// total nominal bit/s = video + audio
const LADDER = [
  { quality: 'ld', width: 320, height: 180, video: 224_000, audio: 32_000 },
  { quality: 'sd', width: 640, height: 360, video: 448_000, audio: 64_000 },
  { quality: 'hd', width: 1280, height: 720, video: 1_904_000, audio: 96_000 },
  { quality: 'fhd', width: 1920, height: 1080, video: 3_872_000, audio: 128_000 },
];

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

const ff = (args) => run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);

function probe(file) {
  const json = JSON.parse(
    run('ffprobe', [
      '-v',
      'error',
      '-show_streams',
      '-show_packets',
      '-show_entries',
      'packet=stream_index,size,flags:stream=index,codec_type,codec_name,profile,width,height,r_frame_rate,sample_rate,channels',
      '-of',
      'json',
      file,
    ]),
  );
  const bytes = new Map();
  const count = new Map();
  let keyframes = 0;
  for (const p of json.packets) {
    const s = json.streams[p.stream_index];
    bytes.set(s.codec_type, (bytes.get(s.codec_type) ?? 0) + Number(p.size));
    count.set(s.codec_type, (count.get(s.codec_type) ?? 0) + 1);
    if (s.codec_type === 'video' && p.flags.startsWith('K')) keyframes++;
  }
  const v = json.streams.find((s) => s.codec_type === 'video');
  const a = json.streams.find((s) => s.codec_type === 'audio');
  const [num, den] = v.r_frame_rate.split('/').map(Number);
  if (count.get('video') !== DURATION * FPS || count.get('audio') !== AUDIO_FRAMES) {
    throw new Error(`${file}: ${count.get('video')} video / ${count.get('audio')} audio frames`);
  }
  return { v, a, fps: num / den, videoBytes: bytes.get('video'), audioBytes: bytes.get('audio'), keyframes };
}

mkdirSync(out, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'ivt-ladder-'));
const renditions = {};
try {
  for (const r of LADDER) {
    const args = {
      quality: r.quality,
      width: r.width,
      height: r.height,
      fps: FPS,
      gopFrames: GOP,
      durationSeconds: DURATION,
      videoBitrate: r.video,
      audioBitrate: r.audio,
      audioRate: AUDIO_RATE,
      preset: 'fast',
      fontPath: FONT,
    };
    const adts = join(tmp, `${r.quality}.aac`);
    const ts = join(out, `${r.quality}.ts`);
    const flv = join(out, `${r.quality}.flv`);
    ff(audioArgs(args, adts));
    ff(encodeArgs(args, adts, ts));
    ff(remuxFlvArgs(ts, flv));
    const p = probe(flv);
    const t = probe(ts);
    // Annex B start codes vs AVCC lengths make the byte counts differ slightly; the frames match.
    if (p.keyframes !== t.keyframes) throw new Error(`${r.quality}: flv/ts keyframes differ`);
    const esBits = (p.videoBytes + p.audioBytes) * 8;
    renditions[r.quality] = {
      flv: `${r.quality}.flv`,
      ts: `${r.quality}.ts`,
      nominalBitrate: r.video + r.audio,
      bitrate: Math.round(esBits / DURATION),
      videoBitrate: Math.round((p.videoBytes * 8) / DURATION),
      audioBitrate: Math.round((p.audioBytes * 8) / DURATION),
      width: p.v.width,
      height: p.v.height,
      fps: p.fps,
      gopSeconds: GOP / FPS,
      durationSeconds: DURATION,
      keyframes: p.keyframes,
      flvBytes: statSync(flv).size,
      tsBytes: statSync(ts).size,
      video: { codec: p.v.codec_name, profile: p.v.profile },
      audio: { codec: p.a.codec_name, sampleRate: Number(p.a.sample_rate), channels: p.a.channels },
    };
    console.log(r.quality, renditions[r.quality].bitrate, 'bit/s');
  }
  ff(alarmJpegArgs(FONT, join(out, 'alarm.jpg')));
  const manifest = {
    version: 1,
    generator: 'media/make-ladder.mjs (system ffmpeg, measured with ffprobe)',
    renditions,
    alarmJpeg: { file: 'alarm.jpg', bytes: statSync(join(out, 'alarm.jpg')).size, width: 640, height: 360 },
  };
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
