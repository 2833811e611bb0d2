// Playback of what the ingest receives: per stream name, the stream description (metadata, AVC
// and AAC sequence headers), the last GOP for a fast start, and the players watching it. A GOP is
// cached only for streams someone has watched (the first player of a stream waits for the next
// key frame), and never beyond maxGopBytes, so memory stays bounded by what is watched.

export interface PlaybackSubscriber {
  /** One audio (8), video (9) or script (18) message, RTMP timestamp in ms. */
  send(type: number, timestamp: number, payload: Buffer): void;
  /** The socket has too much queued: skip to the next key frame rather than queue more. */
  congested(): boolean;
  /** The publisher went away (the subscriber may wait for the next one). */
  unpublished(): void;
}

const TYPE_AUDIO = 8;
const TYPE_VIDEO = 9;
const TYPE_DATA = 18;
const DEFAULT_MAX_GOP_BYTES = 4 * 1024 * 1024;

interface Cached {
  readonly type: number;
  readonly timestamp: number;
  readonly payload: Buffer;
}

class Watcher {
  /** Waiting for a key frame before sending media (joined without a cached GOP, or congested). */
  waitingKey = true;
  constructor(readonly sub: PlaybackSubscriber) {}
}

class PlaybackStream {
  live = false;
  watched = false;
  metadata: Buffer | null = null;
  avcConfig: Buffer | null = null;
  aacConfig: Buffer | null = null;
  gop: Cached[] = [];
  gopBytes = 0;
  /** The cache went over its cap: nothing more is cached until the next key frame. */
  gopFull = false;
  readonly watchers = new Set<Watcher>();
}

export class PlaybackHub {
  private readonly streams = new Map<string, PlaybackStream>();
  /** Frames not sent to a congested player (it skipped to the next key frame). */
  skipped = 0;

  constructor(private readonly maxGopBytes = DEFAULT_MAX_GOP_BYTES) {}

  /** A publisher started on `name`. */
  publish(name: string): void {
    const s = this.streamOf(name);
    s.live = true;
    s.metadata = s.avcConfig = s.aacConfig = null;
    this.clearGop(s);
  }

  /** A media message of the live publisher of `name` (payload may be a view of a socket buffer). */
  media(name: string, type: number, timestamp: number, payload: Buffer): void {
    const s = this.streams.get(name);
    if (!s?.live) return;
    if (type === TYPE_DATA) {
      if (isSetDataFrame(payload)) {
        s.metadata = Buffer.from(stripSetDataFrame(payload));
        for (const w of s.watchers) w.sub.send(TYPE_DATA, timestamp, s.metadata);
        return;
      }
    } else if (type === TYPE_VIDEO && payload.length > 1 && payload[1] === 0) {
      s.avcConfig = Buffer.from(payload);
      for (const w of s.watchers) w.sub.send(type, timestamp, s.avcConfig);
      return;
    } else if (
      type === TYPE_AUDIO &&
      payload.length > 1 &&
      (payload[0] as number) >> 4 === 10 &&
      payload[1] === 0
    ) {
      s.aacConfig = Buffer.from(payload);
      for (const w of s.watchers) w.sub.send(type, timestamp, s.aacConfig);
      return;
    }
    const key = type === TYPE_VIDEO && (payload[0] as number) >> 4 === 1;
    if (s.watched) this.cache(s, key, type, timestamp, payload);
    for (const w of s.watchers) {
      if (w.waitingKey && !key) continue;
      if (w.sub.congested()) {
        w.waitingKey = true;
        this.skipped++;
        continue;
      }
      w.waitingKey = false;
      w.sub.send(type, timestamp, payload);
    }
  }

  /** The publisher of `name` ended. */
  unpublish(name: string): void {
    const s = this.streams.get(name);
    if (!s) return;
    s.live = false;
    this.clearGop(s);
    for (const w of s.watchers) {
      w.waitingKey = true;
      w.sub.unpublished();
    }
    if (s.watchers.size === 0) this.streams.delete(name);
  }

  isLive(name: string): boolean {
    return this.streams.get(name)?.live ?? false;
  }

  /** Starts sending `name` to `sub`: description and cached GOP now, live media after. Returns the unsubscribe. */
  subscribe(name: string, sub: PlaybackSubscriber): () => void {
    const s = this.streamOf(name);
    s.watched = true;
    const w = new Watcher(sub);
    s.watchers.add(w);
    if (s.live) {
      if (s.metadata) sub.send(TYPE_DATA, 0, s.metadata);
      const t0 = s.gop[0]?.timestamp ?? 0;
      if (s.avcConfig) sub.send(TYPE_VIDEO, t0, s.avcConfig);
      if (s.aacConfig) sub.send(TYPE_AUDIO, t0, s.aacConfig);
      for (const c of s.gop) sub.send(c.type, c.timestamp, c.payload);
      w.waitingKey = s.gop.length === 0;
    }
    return () => {
      s.watchers.delete(w);
      if (!s.live && s.watchers.size === 0) this.streams.delete(name);
    };
  }

  private streamOf(name: string): PlaybackStream {
    let s = this.streams.get(name);
    if (!s) {
      s = new PlaybackStream();
      this.streams.set(name, s);
    }
    return s;
  }

  private cache(s: PlaybackStream, key: boolean, type: number, timestamp: number, payload: Buffer): void {
    if (key) {
      this.clearGop(s);
      s.gopFull = false;
    } else if (s.gop.length === 0 || s.gopFull) {
      return; // no GOP start yet, or over the cap: nothing to start from
    }
    if (s.gopBytes + payload.length > this.maxGopBytes) {
      this.clearGop(s);
      s.gopFull = true;
      return;
    }
    // A copy: the payload may be a view of a socket buffer, which must not be kept alive.
    s.gop.push({ type, timestamp, payload: Buffer.from(payload) });
    s.gopBytes += payload.length;
  }

  private clearGop(s: PlaybackStream): void {
    s.gop = [];
    s.gopBytes = 0;
  }
}

function amf0StringAt(payload: Buffer, pos: number): string | null {
  if (payload.length < pos + 3 || payload[pos] !== 0x02) return null;
  return payload.toString('latin1', pos + 3, pos + 3 + payload.readUInt16BE(pos + 1));
}

function isSetDataFrame(payload: Buffer): boolean {
  const name = amf0StringAt(payload, 0);
  return name === '@setDataFrame' || name === 'onMetaData';
}

/** `@setDataFrame` + "onMetaData" + object → "onMetaData" + object, as players expect it. */
function stripSetDataFrame(payload: Buffer): Buffer {
  return amf0StringAt(payload, 0) === '@setDataFrame'
    ? payload.subarray(3 + payload.readUInt16BE(1))
    : payload;
}
