// Gives back the heap a login burst leaves behind, once the devices have settled.
//
// During a burst every handshake's request, parser and response objects live long enough to be
// promoted, then die in the old generation: V8 keeps the pages it grew (2–3× what the idle devices
// use). Its own memory reducer only runs when the allocation rate is low, which thousands of
// keepalives a second never are, so the pages stay for the whole run. The memory-reducing full GC
// (Isolate::LowMemoryNotification: compacting, pooled pages released) is reachable from JS through
// the inspector protocol's HeapProfiler.collectGarbage, on whatever thread asks; no flags needed.

import { Session } from 'node:inspector';
import { getHeapStatistics } from 'node:v8';

export interface HeapTrimOptions {
  /** Seconds the activity figure must stay unchanged, with nothing settling, before a trim (default 3). */
  quietTicks?: number;
  /** Growth of the committed heap since the last trim (or the first tick) worth a pause (default 24 MiB)… */
  minGrowthBytes?: number;
  /** …and as a share of the heap then (default 0.5). */
  minGrowthRatio?: number;
  /** At most one trim per this many ms (default 60 s). */
  minGapMs?: number;
  /** Told after each trim: bytes the committed heap shrank by, and the pause it took. */
  trimmed?: (freedBytes: number, pauseMs: number) => void;
}

/**
 * The heap's committed bytes: what a trim decides from. Not the used bytes: until the next full
 * GC they still count the burst's dead objects.
 */
export function committedHeap(): number {
  return getHeapStatistics().total_physical_size;
}

/**
 * Ticked once a second with a figure that changes while devices log in or drop (how many are
 * online) and whether anything is still settling (a login in flight): after the figure has held
 * still with nothing settling for `quietTicks` and the committed heap has grown enough since the
 * last trim, runs one memory-reducing GC. A burst the platform answers slowly holds the online
 * count still too, so in-flight logins count as activity: the pause never lands mid-burst. The pause is that of a full GC of this thread's
 * heap (tens to hundreds of ms for 10k devices), taken once after a burst, not per tick.
 */
export class HeapTrimmer {
  private readonly quietTicks: number;
  private readonly minGrowthBytes: number;
  private readonly minGrowthRatio: number;
  private readonly minGapMs: number;
  private lastActivity = Number.NaN;
  private quiet = 0;
  private lastTrimAt = Number.NEGATIVE_INFINITY;
  private busy = false;
  /** Committed heap after the last trim, or at the first tick. */
  private baseline = -1;

  constructor(private readonly options: HeapTrimOptions = {}) {
    this.quietTicks = options.quietTicks ?? 3;
    this.minGrowthBytes = options.minGrowthBytes ?? 24 * 2 ** 20;
    this.minGrowthRatio = options.minGrowthRatio ?? 0.5;
    this.minGapMs = options.minGapMs ?? 60_000;
  }

  /** Whether the heap grew enough since the last trim to be worth a pause. */
  private grownEnough(committed: number): boolean {
    const growth = committed - this.baseline;
    return growth > this.minGrowthBytes && growth > this.baseline * this.minGrowthRatio;
  }

  /** Resolves true when this tick trimmed (the GC runs as a task of this thread, soon after). */
  async tick(
    activity: number,
    settling = false,
    now = performance.now(),
    heap: () => number = committedHeap,
  ): Promise<boolean> {
    this.quiet = activity === this.lastActivity && !settling ? this.quiet + 1 : 0;
    this.lastActivity = activity;
    if (this.baseline < 0) this.baseline = heap();
    if (this.busy || this.quiet < this.quietTicks || now - this.lastTrimAt < this.minGapMs) return false;
    const before = heap();
    if (!this.grownEnough(before)) return false;
    this.lastTrimAt = now;
    this.busy = true;
    const started = performance.now();
    try {
      if (!(await collectAllGarbage())) return false;
    } finally {
      this.busy = false;
    }
    this.baseline = heap();
    this.options.trimmed?.(before - this.baseline, performance.now() - started);
    return true;
  }
}

/** The memory-reducing GC of this thread's heap; false when Node was built without the inspector. */
function collectAllGarbage(): Promise<boolean> {
  if (!process.features.inspector) return Promise.resolve(false);
  // A session only for this call: an attached session must not linger over the whole run.
  const session = new Session();
  session.connect();
  return new Promise<boolean>((resolve) => {
    session.post('HeapProfiler.collectGarbage', (error) => {
      // Not from inside the inspector's own callback: disconnecting there never returns.
      setImmediate(() => session.disconnect());
      resolve(error === null);
    });
  });
}
