// Players that pull a stream back the way a viewer would and measure what the viewer sees: time to
// first frame, stalls, end-to-end delay, bytes. See docs/viewers.md for the API and the model.
import { HlsPlayer, type HlsViewerOptions } from './hls-player.js';
import { HttpFlvPlayer } from './http-flv-player.js';
import { RtmpPlayer } from './rtmp-player.js';
import { protocolOf, type Viewer, type ViewerProtocol } from './types.js';

export { viewerMetricsObserver } from './metrics.js';
export { DEFAULT_BUFFER_MS } from './player-base.js';
export * from './types.js';
export type { HlsViewerOptions };

export interface CreateViewerOptions extends HlsViewerOptions {
  /** Default: from the URL (rtmp:// → rtmp, *.m3u8 → hls, other http:// → http-flv). */
  protocol?: ViewerProtocol;
}

/** A player for one URL; call start(). */
export function createViewer(options: CreateViewerOptions): Viewer {
  const protocol = options.protocol ?? protocolOf(options.url) ?? 'rtmp';
  switch (protocol) {
    case 'rtmp':
      return new RtmpPlayer(options);
    case 'http-flv':
      return new HttpFlvPlayer(options);
    case 'hls':
      return new HlsPlayer(options);
  }
}
