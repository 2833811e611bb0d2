import { between, type Random } from '../core/random.js';
import type { DeviceTimings, ProfileTraits } from './profile.js';

/**
 * How long to wait before reconnect attempt number `attempt` (0 = the first retry).
 *
 * - `exponential` (contract item 3): full jitter, uniform in [0, min(cap, initial · 2^attempt)],
 *   so a fleet that lost its platform at once spreads out instead of reconnecting in lock-step.
 * - `vendor` (its SDK): before the first successful login every random 5–10 s; after a loss
 *   `quickRetries` attempts 1–3 s apart, then every random 5–10 s.
 */
export function reconnectDelay(
  traits: ProfileTraits,
  timings: Readonly<DeviceTimings>,
  random: Random,
  attempt: number,
  afterLoss: boolean,
): number {
  if (traits.reconnect === 'vendor') {
    return afterLoss && attempt < timings.quickRetries
      ? between(random, timings.quickRetryMinMs, timings.quickRetryMaxMs)
      : between(random, timings.retryMinMs, timings.retryMaxMs);
  }
  // 2^attempt overflows nothing here: the cap is reached long before.
  const bound = Math.min(timings.backoffCapMs, timings.backoffInitialMs * 2 ** Math.min(attempt, 30));
  return random() * bound;
}

/** The vendor stops its cloud recordings once the quick retries after a loss have failed. */
export function quickRetriesExhausted(
  traits: ProfileTraits,
  timings: Readonly<DeviceTimings>,
  attempt: number,
  afterLoss: boolean,
): boolean {
  return traits.reconnect === 'vendor' && afterLoss && attempt === timings.quickRetries;
}
