// The load shape over time. Pure functions the coordinator calls every tick: the concurrency
// (closed model) or arrival rate (open model) at a time, and the arrivals due so far.
import type { Stage } from './types.js';

/**
 * The target at `elapsedMs`, interpolated linearly within each stage from the previous stage's
 * target (`start` before the first one), as k6's ramping executors do. A zero-length stage is
 * a step. After the last stage, the last target holds. Not rounded: the caller decides how.
 */
export function targetAt(stages: readonly Stage[], elapsedMs: number, start = 0): number {
  let from = start;
  let t = Math.max(0, elapsedMs);
  for (const stage of stages) {
    if (t < stage.durationMs) return from + ((stage.target - from) * t) / stage.durationMs;
    t -= stage.durationMs;
    from = stage.target;
  }
  return from;
}

/** Total length of the stages in ms. */
export function stagesDurationMs(stages: readonly Stage[]): number {
  let total = 0;
  for (const stage of stages) total += stage.durationMs;
  return total;
}

/**
 * Open model: the number of arrivals (logins) due between 0 and `elapsedMs`, i.e. the integral
 * of the per-second rate given by `targetAt(stages, t, startRate)`. The coordinator starts
 * `floor(arrivalsUntil(now)) - started` new devices each tick, so no arrival is lost to rounding.
 */
export function arrivalsUntil(stages: readonly Stage[], elapsedMs: number, startRate = 0): number {
  let from = startRate;
  let t = Math.max(0, elapsedMs);
  let total = 0;
  for (const stage of stages) {
    const span = Math.min(t, stage.durationMs);
    if (span > 0) {
      const rateAtSpanEnd = from + ((stage.target - from) * span) / stage.durationMs;
      total += ((from + rateAtSpanEnd) / 2) * (span / 1000);
    }
    if (t <= stage.durationMs) return total;
    t -= stage.durationMs;
    from = stage.target;
  }
  return total + from * (t / 1000);
}

/** Named stages as windows of the load (ms since it started), for `during: <name>`. */
export function stageWindows(stages: readonly Stage[]): Record<string, { fromMs: number; toMs: number }> {
  const out: Record<string, { fromMs: number; toMs: number }> = {};
  let at = 0;
  for (const stage of stages) {
    if (stage.name !== undefined) out[stage.name] = { fromMs: at, toMs: at + stage.durationMs };
    at += stage.durationMs;
  }
  return out;
}
