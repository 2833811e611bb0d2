/**
 * The ffmpeg command lines of one rendition, shared by the wasm builder (`build-worker.ts`) and
 * the system-ffmpeg script that made the committed ladder (`media/make-ladder.mjs`), so both
 * encode the same way: H.264 Main without B-frames, a GOP of exactly `gopFrames`, CBR with filler
 * (a test pattern compresses far below the target otherwise, and a load test needs the bytes on
 * the wire to match the nominal bitrate), AAC mono, MPEG-TS out.
 */
export interface RenditionArgs {
  quality: string;
  width: number;
  height: number;
  fps: number;
  gopFrames: number;
  durationSeconds: number;
  videoBitrate: number;
  audioBitrate: number;
  audioRate: number;
  preset: string;
  /** TrueType font for the burnt-in label and clock; null: testsrc's own counter shows time. */
  fontPath: string | null;
}

/**
 * The audio alone, as ADTS: AAC adds 1024 priming samples, so it is encoded separately (one second
 * longer) and cut by `-t` on the mux, so audio starts with video and both end together.
 */
export function audioArgs(r: RenditionArgs, out: string): string[] {
  return [
    ...['-f', 'lavfi', '-i', `sine=frequency=1000:beep_factor=4:sample_rate=${r.audioRate}`],
    ...['-t', String(r.durationSeconds + 1), '-c:a', 'aac', '-b:a', String(r.audioBitrate), '-ac', '1'],
    ...['-f', 'adts', out],
  ];
}

/** The lavfi video source: testsrc2 with the quality, size and a running clock burnt in. */
export function videoSource(r: RenditionArgs): string {
  if (!r.fontPath) return `testsrc=size=${r.width}x${r.height}:rate=${r.fps}`;
  const size = Math.max(8, Math.round(r.height / 12));
  const text = `${r.quality} ${r.width}x${r.height} %{pts\\:hms} f%{n}`;
  return (
    `testsrc2=size=${r.width}x${r.height}:rate=${r.fps},drawtext=fontfile=${r.fontPath}:text='${text}'` +
    `:x=${size}:y=${size}:fontsize=${size}:fontcolor=white:box=1:boxcolor=black@0.6`
  );
}

/** Video encode muxed with the audio of `audioArgs` into MPEG-TS. */
export function encodeArgs(r: RenditionArgs, audioIn: string, out: string): string[] {
  const v = String(r.videoBitrate);
  const gop = String(r.gopFrames);
  return [
    ...['-f', 'lavfi', '-i', videoSource(r), '-i', audioIn, '-map', '0:v', '-map', '1:a'],
    // -t (not -frames:v) so each stream stops on its own: -frames:v would close the whole output
    // and cut the audio, which the muxer interleaves behind the video.
    ...['-t', String(r.durationSeconds)],
    ...['-c:v', 'libx264', '-preset', r.preset, '-profile:v', 'main', '-bf', '0', '-pix_fmt', 'yuv420p'],
    ...['-g', gop, '-keyint_min', gop, '-sc_threshold', '0'],
    ...['-b:v', v, '-maxrate', v, '-bufsize', v, '-x264-params', 'nal-hrd=cbr'],
    ...['-c:a', 'copy', '-f', 'mpegts', out],
  ];
}

/** The same bitstream in FLV (the muxer takes avcC/ASC from the TS parser). */
export function remuxFlvArgs(tsIn: string, out: string): string[] {
  return ['-i', tsIn, '-c', 'copy', '-f', 'flv', out];
}

/** One 640x360 frame stamped "ALARM", for alarm picture uploads. */
export function alarmJpegArgs(fontPath: string | null, out: string): string[] {
  const stamp = fontPath
    ? `,drawtext=fontfile=${fontPath}:text='ALARM':x=230:y=150:fontsize=64:fontcolor=red:box=1:boxcolor=white@0.8`
    : '';
  return ['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=1${stamp}`, '-frames:v', '1', '-q:v', '5', out];
}
