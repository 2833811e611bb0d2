// The parts of an HLS playlist a player needs: a master playlist's first variant, or a media
// playlist's target duration, media sequence, segments and whether it has ended (RFC 8216).

export interface MediaPlaylist {
  readonly kind: 'media';
  readonly targetDurationMs: number;
  readonly mediaSequence: number;
  readonly segments: readonly { readonly uri: string; readonly durationMs: number }[];
  readonly ended: boolean;
}

export interface MasterPlaylist {
  readonly kind: 'master';
  readonly variantUri: string;
}

export class PlaylistError extends Error {
  override name = 'PlaylistError';
}

export function parsePlaylist(text: string): MediaPlaylist | MasterPlaylist {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== '#EXTM3U') throw new PlaylistError('playlist does not start with #EXTM3U');
  let targetDurationMs = 0;
  let mediaSequence = 0;
  let ended = false;
  let pendingDuration: number | null = null;
  let variant = false;
  const segments: { uri: string; durationMs: number }[] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDurationMs = Number(line.slice(22)) * 1000;
    else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXTINF:')) pendingDuration = Number.parseFloat(line.slice(8)) * 1000;
    else if (line.startsWith('#EXT-X-STREAM-INF')) variant = true;
    else if (line === '#EXT-X-ENDLIST') ended = true;
    else if (!line.startsWith('#')) {
      if (variant) return { kind: 'master', variantUri: line };
      if (pendingDuration === null) throw new PlaylistError(`segment ${line} without #EXTINF`);
      segments.push({ uri: line, durationMs: pendingDuration });
      pendingDuration = null;
    }
  }
  if (!(targetDurationMs > 0)) throw new PlaylistError('media playlist without #EXT-X-TARGETDURATION');
  if (!Number.isInteger(mediaSequence)) throw new PlaylistError('bad #EXT-X-MEDIA-SEQUENCE');
  return { kind: 'media', targetDurationMs, mediaSequence, segments, ended };
}
