// Helpers for the viewer tests: publishers of a committed rendition, players recording into a
// metrics registry, waiting for an HLS playlist, and reading the burnt-in clock of pulled frames.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadCatalogue } from '../src/media/catalogue.js';
import { type FlvFile, loadFlv } from '../src/media/flv.js';
import { PublishScheduler } from '../src/media/rtmp/pacer.js';
import { RtmpPublisher } from '../src/media/rtmp/publisher.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import {
  type CreateViewerOptions,
  createViewer,
  type Viewer,
  viewerMetricsObserver,
} from '../src/viewer/index.js';
import type { ViewerProtocol } from '../src/viewer/types.js';

export { waitForHttp200 } from '../support/http-ready.js';

const run = promisify(execFile);

export async function ldMedia(): Promise<FlvFile> {
  return loadFlv(loadCatalogue().rendition('ld').flvPath);
}

export class Publishers {
  readonly scheduler = new PublishScheduler({ windowMs: 200 });
  readonly list: RtmpPublisher[] = [];

  async start(urls: string[], media: FlvFile): Promise<void> {
    for (const url of urls) {
      const p = new RtmpPublisher({ url, media, scheduler: this.scheduler });
      this.list.push(p);
      await p.start();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.list.map((p) => p.stop()));
    this.scheduler.close();
  }
}

/** Players of several protocols recording into one registry, as a farm worker would. */
export class Audience {
  readonly registry = new MetricsRegistry({ source: 'test' });
  readonly viewers: Viewer[] = [];

  add(protocol: ViewerProtocol, options: CreateViewerOptions): Viewer {
    const v = createViewer({
      ...options,
      protocol,
      observer: viewerMetricsObserver(this.registry, protocol),
    });
    this.viewers.push(v);
    return v;
  }

  of(protocol: ViewerProtocol): Viewer[] {
    return this.viewers.filter((v) => v.protocol === protocol);
  }

  async stop(): Promise<void> {
    await Promise.all(this.viewers.map((v) => v.stop()));
  }
}

/** Polls until `url` answers 200 (nginx writes the first HLS playlist after the first fragment). */
/**
 * Decodes `count` frames of a file with ffmpeg and returns, per frame, the gray pixels of the
 * seconds digit of the ld rendition's burnt-in clock (`ld 320x180 00:00:0S.mmm f…`, DejaVu Sans
 * Mono 15 px at x = 15: the seconds digit spans x 186–193, y 15–28).
 */
export async function secondsDigitPixels(path: string, count: number): Promise<Buffer[]> {
  const w = 8;
  const h = 14;
  const { stdout } = await run(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      path,
      '-frames:v',
      String(count),
      '-fps_mode',
      'passthrough',
      '-vf',
      `crop=${w}:${h}:186:15,format=gray`,
      '-f',
      'rawvideo',
      '-',
    ],
    { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
  );
  const frames: Buffer[] = [];
  for (let i = 0; i + w * h <= stdout.length; i += w * h) frames.push(stdout.subarray(i, i + w * h));
  return frames;
}

/** Mean absolute difference of two gray images, 0–255. */
export function meanDiff(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / a.length;
}

export { run as execFileAsync };
