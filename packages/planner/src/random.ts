/**
 * A small seeded PRNG and the samplers the Monte Carlo needs. Plans must be
 * reproducible, so randomness is a value passed in, never Math.random.
 */

/** Uniform draws in [0, 1). */
export type Rng = () => number;

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128-bit state,
 * passes PractRand, a handful of integer ops per draw. The stream name is
 * hashed into the state so every (business unit, period) gets its own stream:
 * adding a target to a plan does not change the numbers of the others.
 */
export function createRng(seed: number, stream: string): Rng {
  let mix = (hashString(stream) ^ Math.imul(seed >>> 0, 0x9e3779b9)) >>> 0;
  const next32 = (): number => {
    // splitmix32 spreads the seed over the four state words
    mix = (mix + 0x9e3779b9) | 0;
    let z = mix;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next32();
  let b = next32();
  let c = next32();
  let d = next32();
  const draw = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) draw(); // the first outputs still echo the seed
  return draw;
}

/** FNV-1a, 32 bits. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Standard normal (Box-Muller; the second value is dropped to keep the sampler stateless). */
export function sampleNormal(rng: Rng): number {
  const u = 1 - rng(); // (0, 1]: log(0) must not happen
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 via the boost Gamma(shape+1) * U^(1/shape). */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1) * Math.pow(1 - rng(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = sampleNormal(rng);
    const v0 = 1 + c * x;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = 1 - rng();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(alpha, beta) as a ratio of gammas. */
export function sampleBeta(rng: Rng, alpha: number, beta: number): number {
  const x = sampleGamma(rng, alpha);
  const y = sampleGamma(rng, beta);
  return x / (x + y);
}

/** Nearest-rank quantile of ascending values: always one of the draws, so whole volumes stay whole. */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  const value = sorted[index];
  if (value === undefined) throw new RangeError('a quantile of no values');
  return value;
}
