// Seeded randomness. Devices draw jitter and fault dice from a per-device stream (`deviceSeed`);
// the run's other random choices (device mix order, event victims, platform actions) draw from
// a stream derived from the scenario's seed and a purpose name (`createRandom`), so adding a new
// random use does not shift the others, and the same seed replays the same run.

/** A source of uniform numbers in [0, 1). Devices take one so a seeded run is repeatable. */
export type Random = () => number;

/** mulberry32: tiny, fast and good enough for jitter and fault dice (not for cryptography). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A per-device seed from a run seed and the device index, so devices do not share one sequence. */
export function deviceSeed(runSeed: number, index: number): number {
  let h = (runSeed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ index, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

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

/** The random stream of `purpose` (e.g. 'plan', 'events', 'platform') for a scenario seed. */
export function createRandom(seed: number, purpose: string): Random {
  return seededRandom(deriveSeed(seed, purpose));
}

/** Uniform in [min, max). */
export function between(random: Random, min: number, max: number): number {
  return min + random() * (max - min);
}
