/**
 * Seeded pseudo-random numbers for the simulators: deterministic (same seed, same
 * numbers), no clock, no global state.
 *
 * A seed is a number or a string. `createRng(seed)` is a mulberry32 stream; `fork`
 * derives an independent sub-stream by hashing the parent seed with labels (a device,
 * a model, a day, a time slot). Keying sub-streams by time slots rather than drawing
 * from one long stream makes the generators chunk-invariant: the readings of
 * [a, c) are the readings of [a, b) followed by those of [b, c).
 */
export type Seed = number | string;

export interface Rng {
  /** The seed of this stream, as a string (forks append their labels). */
  readonly seed: string;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number;
  /** Integer uniform in [min, max] (both included). */
  int(min: number, max: number): number;
  /** Normal (Box-Muller). */
  normal(mean?: number, sd?: number): number;
  /** Normal truncated to mean ± limit × sd (resampled, then clamped as a last resort). */
  truncatedNormal(mean: number, sd: number, limit?: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** An independent stream derived from this one's seed and the labels (not from its state). */
  fork(...labels: readonly (string | number)[]): Rng;
}

/** 32-bit string hash (MurmurHash3 finaliser over an FNV-1a pass). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The mulberry32 generator: 32 bits of state, period 2^32, uniform in [0, 1). */
export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Joins a seed and labels into the seed string of a sub-stream. */
export function deriveSeed(seed: Seed, ...labels: readonly (string | number)[]): string {
  return [String(seed), ...labels.map(String)].join('/');
}

export function createRng(seed: Seed): Rng {
  const seedText = String(seed);
  const next = mulberry32(hashString(seedText));
  const rng: Rng = {
    seed: seedText,
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor((max - min + 1) * next()),
    normal(mean = 0, sd = 1) {
      const u1 = 1 - next(); // (0, 1]: log is finite
      const u2 = next();
      return mean + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
    truncatedNormal(mean, sd, limit = 2.5) {
      for (let i = 0; i < 8; i++) {
        const z = rng.normal();
        if (Math.abs(z) <= limit) return mean + sd * z;
      }
      return mean;
    },
    chance: (p) => next() < p,
    fork: (...labels) => createRng(deriveSeed(seedText, ...labels)),
  };
  return rng;
}

/**
 * Smooth noise of about unit variance at time `t` (epoch ms): normal values at knots
 * every `periodMs`, cosine-interpolated. Stateless, so any instant can be asked for
 * in any order.
 */
export function smoothNoise(seed: Seed, t: number, periodMs: number): number {
  const k = Math.floor(t / periodMs);
  const f = (t - k * periodMs) / periodMs;
  const a = createRng(deriveSeed(seed, 'knot', k)).normal();
  const b = createRng(deriveSeed(seed, 'knot', k + 1)).normal();
  const w = (1 - Math.cos(Math.PI * f)) / 2;
  // Interpolating two independent normals shrinks the variance; rescale to about 1.
  return (a * (1 - w) + b * w) / Math.sqrt((1 - w) ** 2 + w ** 2);
}
