// The playout buffer model: how a player would show the frames it receives, without decoding.
//
// Playback starts `bufferMs` after the first key frame arrived (the start-up buffer). From then on
// a frame with media timestamp m is due at anchorWall + (m − anchorMedia). A frame that arrives
// after its due time means the screen froze: a stall that began at the due time. The player then
// re-buffers (playback resumes `bufferMs` after that late frame arrived), so the stall lasts
// arrival + bufferMs − due, and the timeline is re-anchored on that frame. Video frames only;
// audio is counted as bytes. Receive time is the wall clock (Date.now()) of the socket read.

export interface PlayoutEvents {
  onFirstFrame(ttffMs: number): void;
  onStall(durationMs: number): void;
  onDelay(delayMs: number): void;
}

/** A media timestamp jump larger than this (or backwards) is a new timeline, not a stall. */
const DISCONTINUITY_MS = 10_000;
/** At stop, a frame this overdue counts as an ongoing stall. */
const OVERDUE_AT_STOP_MS = 100;

export class PlayoutMeter {
  ttffMs: number | null = null;
  firstFrameAt = 0;
  stalls = 0;
  stallMs = 0;
  videoFrames = 0;
  keyFrames = 0;
  clocks = 0;
  delayLastMs: number | null = null;
  delayMaxMs: number | null = null;
  private anchorWall = 0;
  private anchorMedia = 0;
  private lastMedia = 0;
  private startedAt = 0;

  constructor(
    private readonly bufferMs: number,
    private readonly events: PlayoutEvents,
  ) {}

  /** The player starts connecting at `at` (epoch ms): time to first frame counts from here. */
  begin(at: number): void {
    this.startedAt = at;
  }

  get started(): boolean {
    return this.ttffMs !== null;
  }

  /** One video frame received at `now` (epoch ms) with media time `mediaMs`. */
  frame(mediaMs: number, key: boolean, clock: number | null, now: number): void {
    this.videoFrames++;
    if (key) this.keyFrames++;
    if (clock !== null) {
      this.clocks++;
      const delay = now - clock;
      this.delayLastMs = delay;
      if (this.delayMaxMs === null || delay > this.delayMaxMs) this.delayMaxMs = delay;
      this.events.onDelay(delay);
    }
    if (this.ttffMs === null) {
      if (!key) return; // nothing can be shown before a key frame
      this.ttffMs = now - this.startedAt;
      this.firstFrameAt = now;
      this.anchor(mediaMs, now + this.bufferMs);
      this.events.onFirstFrame(this.ttffMs);
      return;
    }
    const step = mediaMs - this.lastMedia;
    if (step < 0 || step > DISCONTINUITY_MS) {
      this.anchor(mediaMs, Math.max(now, this.due(this.lastMedia)));
      return;
    }
    const due = this.due(mediaMs);
    if (now > due) {
      const resume = now + this.bufferMs;
      this.stall(resume - due);
      this.anchor(mediaMs, resume);
      return;
    }
    this.lastMedia = mediaMs;
  }

  /** The player stops at `now`: a frame overdue by then is an ongoing stall, counted up to now. */
  end(now: number): void {
    if (this.ttffMs === null) return;
    const due = this.due(this.lastMedia);
    if (now - due > OVERDUE_AT_STOP_MS) this.stall(now - due);
  }

  private due(mediaMs: number): number {
    return this.anchorWall + (mediaMs - this.anchorMedia);
  }

  private anchor(mediaMs: number, wall: number): void {
    this.anchorMedia = mediaMs;
    this.anchorWall = wall;
    this.lastMedia = mediaMs;
  }

  private stall(durationMs: number): void {
    this.stalls++;
    this.stallMs += durationMs;
    this.events.onStall(durationMs);
  }
}
