// Seeded randomness. Every random choice of a run (device mix order, event victims, alarm
// times) draws from a stream derived from the scenario's seed and a purpose name, so adding a
// new random use does not shift the others, and the same seed replays the same run.

import { type Random, seededRandom } from '../device/random.js';

export type { Random };
/** mulberry32, the same generator the devices use. */
export const mulberry32 = seededRandom;

/** FNV-1a of `purpose` mixed with the seed: independent streams per purpose. */
export function deriveSeed(seed: number, purpose: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < purpose.length; i++) {
    h ^= purpose.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // One avalanche round so that seeds 1 and 2 do not start out correlated.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** The random stream of `purpose` (e.g. 'plan', 'events', 'alarms') for a scenario seed. */
export function createRandom(seed: number, purpose: string): Random {
  return mulberry32(deriveSeed(seed, purpose));
}

/** Integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}
