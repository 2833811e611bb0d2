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

/** Uniform in [min, max). */
export function between(random: Random, min: number, max: number): number {
  return min + random() * (max - min);
}
