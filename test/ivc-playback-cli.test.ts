import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { eventually } from '../support/eventually.js';
import { startCli } from './cli-process.js';

// `ivtfarm ivc` on its own serves back what its RTMP ingest received, over HTTP-FLV: a stream
// FFmpeg (nobody here wrote it) pushes is read back by ffprobe as H.264 + AAC.

const run = promisify(execFile);

test('ivtfarm ivc --rtmp-port plays its ingest back over HTTP-FLV (ffmpeg pushes, ffprobe reads)', async () => {
  const ivc = startCli(['ivc', '--port', '0', '--rtmp-port', '0']);
  try {
    await eventually('the banner', () => /vendor quirks:/.test(ivc.output()), 15_000);
    const rtmp = /RTMP ingest:\s+(\S+)/.exec(ivc.output())![1]!;
    const flv = /HTTP-FLV playback:\s+(\S+)\/<stream>\.flv/.exec(ivc.output())?.[1];
    assert.ok(flv, ivc.output());
    const push = spawn(
      'ffmpeg',
      [
        '-loglevel',
        'error',
        '-re',
        '-stream_loop',
        '-1',
        '-i',
        'media/ld.flv',
        '-c',
        'copy',
        '-f',
        'flv',
        `${rtmp}/cli-cam-0`,
      ],
      { stdio: 'ignore' },
    );
    try {
      let streams = '';
      await eventually(
        'ffprobe to read the stream back',
        async () => {
          const probe = await run(
            'ffprobe',
            [
              '-v',
              'error',
              '-show_entries',
              'stream=codec_name,width,height',
              '-of',
              'csv=p=0',
              `${flv}/cli-cam-0.flv`,
            ],
            { timeout: 10_000 },
          ).catch(() => ({ stdout: '' }));
          streams = probe.stdout;
          return /h264,320,180/.test(streams) && /aac/.test(streams);
        },
        30_000,
        500,
      );
      assert.match(streams, /h264,320,180/);
    } finally {
      push.kill();
    }
  } finally {
    ivc.child.kill();
  }
});
