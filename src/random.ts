/**
 * Seeded pseudo-random numbers for the numeric core, its tests and benchmarks. The core never calls
 * Math.random: randomness comes in as an argument so results are reproducible.
 */
export type Rng = () => number;

/** mulberry32: a small, fast 32-bit generator; uniform in [0, 1). Good enough for start vectors and tests. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws from a uniform generator (Box–Muller, one value per call). */
export function normal(rng: Rng): Rng {
  return () => {
    let u = rng();
    while (u <= Number.EPSILON) u = rng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
  };
}

/** A Float64Array of `length` standard normal values. */
export function normalArray(rng: Rng, length: number): Float64Array {
  const draw = normal(rng);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = draw();
  return out;
}
