/**
 * Seeded random numbers, one definition for the project: Thompson sampling and the bandit
 * simulation (the scheduled handler seeds it from the clock), k-means restarts and subsamples
 * (segment discovery), and every test and simulation that needs a reproducible sequence.
 */

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number

/**
 * SplitMix32-seeded Mulberry32: a small, fast 32-bit generator, good enough for Monte Carlo
 * (passes gjrand/PractRand to 2^32 outputs, far above the ~10^6 draws one update needs).
 * @example const rng = seededRng(42); rng() // always the same first number for seed 42
 */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0
  return function mulberry32(): number {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000
  }
}

/** A standard normal draw (Marsaglia's polar method). */
export function normal(rng: Rng): number {
  for (;;) {
    const u = 2 * rng() - 1
    const v = 2 * rng() - 1
    const s = u * u + v * v
    if (s > 0 && s < 1) return u * Math.sqrt((-2 * Math.log(s)) / s)
  }
}

/**
 * A Gamma(shape, 1) draw: Marsaglia and Tsang (2000), "A simple method for generating gamma
 * variables", ACM TOMS 26(3); shapes below 1 use the boost Gamma(a) = Gamma(a+1)·U^(1/a).
 */
export function gamma(shape: number, rng: Rng): number {
  if (!(shape > 0)) throw new RangeError('gamma needs a shape above 0')
  if (shape < 1) {
    let u = rng()
    while (u === 0) u = rng()
    return gamma(shape + 1, rng) * u ** (1 / shape)
  }
  const d = shape - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    let x: number
    let v: number
    do {
      x = normal(rng)
      v = 1 + c * x
    } while (v <= 0)
    v = v * v * v
    const u = rng()
    if (u < 1 - 0.0331 * x * x * x * x) return d * v
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v
  }
}

/** A Beta(a, b) draw as X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function beta(a: number, b: number, rng: Rng): number {
  const x = gamma(a, rng)
  const y = gamma(b, rng)
  return x / (x + y)
}

/** A Binomial(n, p) draw: exact Bernoulli sum for small n, normal approximation (clamped) above. */
export function binomial(n: number, p: number, rng: Rng): number {
  if (n <= 0 || p <= 0) return 0
  if (p >= 1) return n
  if (n < 200 || n * p < 20 || n * (1 - p) < 20) {
    let k = 0
    for (let i = 0; i < n; i++) if (rng() < p) k++
    return k
  }
  const k = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * normal(rng))
  return Math.min(n, Math.max(0, k))
}
