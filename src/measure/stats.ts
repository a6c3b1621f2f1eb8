/**
 * The statistics behind experiment results (docs/measurement.md, "Statistics"). Written out
 * here rather than imported so every formula is visible and tested against reference values.
 * Every function returns finite numbers or null: never NaN, never Infinity.
 */

/** z for a two-sided 95% interval: Φ⁻¹(0.975). */
export const Z95 = 1.959963984540054

const EPS = 1e-15
const MAX_ITERATIONS = 10_000
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error ~1e-15). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x) // reflection
  const z = x - 1
  let a = LANCZOS[0] as number
  const t = z + 7.5
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] as number) / (z + i)
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a)
}

/** Series for P(a, x), good for x < a + 1. */
function gammaPSeries(a: number, x: number): number {
  let sum = 1 / a
  let term = sum
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n)
    sum += term
    if (Math.abs(term) < Math.abs(sum) * EPS) break
  }
  return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a))
}

/** Continued fraction for Q(a, x) (modified Lentz), good for x ≥ a + 1. */
function gammaQFraction(a: number, x: number): number {
  const tiny = 1e-300
  let b = x + 1 - a
  let c = 1 / tiny
  let d = 1 / b
  let h = d
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < tiny) d = tiny
    c = b + an / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h
}

/** Regularized lower incomplete gamma P(a, x) = γ(a, x) / Γ(a), for a > 0, x ≥ 0. */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError('regularizedGammaP needs a > 0 and x >= 0')
  if (x === 0) return 0
  if (x === Infinity) return 1
  return x < a + 1 ? gammaPSeries(a, x) : 1 - gammaQFraction(a, x)
}

/** Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x), computed directly in the tail. */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError('regularizedGammaQ needs a > 0 and x >= 0')
  if (x === 0) return 1
  if (x === Infinity) return 0
  return x < a + 1 ? 1 - gammaPSeries(a, x) : gammaQFraction(a, x)
}

/** erf(x) = sign(x) · P(½, x²). Accurate to ~1e-15 (far inside the 1e-7 we need). */
export function erf(x: number): number {
  if (Number.isNaN(x)) throw new RangeError('erf of NaN')
  const p = regularizedGammaP(0.5, x * x)
  return x < 0 ? -p : p
}

/** erfc(x) = 1 − erf(x), without cancellation in the upper tail: Q(½, x²) for x ≥ 0. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) throw new RangeError('erfc of NaN')
  return x >= 0 ? regularizedGammaQ(0.5, x * x) : 1 + regularizedGammaP(0.5, x * x)
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2)
}

/** Two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|) = erfc(|z|/√2). */
export function twoSidedP(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2)
}

/** Survival function of the chi-square distribution with k degrees of freedom: Q(k/2, x/2). */
export function chiSquareSf(x: number, k: number): number {
  if (!(k > 0)) throw new RangeError('chi-square needs k > 0 degrees of freedom')
  if (!(x > 0)) return 1
  return regularizedGammaQ(k / 2, x / 2)
}

export interface ZTest {
  z: number
  pValue: number
}

/**
 * Two-proportion z-test with the pooled standard error, two-sided:
 * p̂ = (x₁+x₂)/(n₁+n₂), se = √(p̂(1−p̂)(1/n₁+1/n₂)), z = (x₁/n₁ − x₂/n₂)/se.
 * Null when the statistic is undefined (an empty arm, or p̂ of 0 or 1 so se = 0).
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): ZTest | null {
  if (!(n1 > 0) || !(n2 > 0)) return null
  const pooled = (x1 + x2) / (n1 + n2)
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
  if (!(se > 0)) return null
  const z = (x1 / n1 - x2 / n2) / se
  return { z, pValue: twoSidedP(z) }
}

/** Wilson score interval for one proportion x/n (n > 0). */
export function wilsonInterval(x: number, n: number, z: number = Z95): [number, number] {
  const p = x / n
  const z2 = z * z
  const denom = 1 + z2 / n
  const centre = (p + z2 / (2 * n)) / denom
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))
  return [Math.max(0, centre - half), Math.min(1, centre + half)]
}

/**
 * Newcombe's hybrid score interval (1998, method 10) for the difference of two proportions
 * p₁ − p₂, built from the Wilson intervals (l₁,u₁) and (l₂,u₂):
 * [d − √((p₁−l₁)² + (u₂−p₂)²), d + √((u₁−p₁)² + (p₂−l₂)²)].
 * Unlike the Wald interval it stays inside [−1, 1] and does not collapse to a point at 0 or 100%.
 */
export function newcombeInterval(x1: number, n1: number, x2: number, n2: number, z: number = Z95): [number, number] | null {
  if (!(n1 > 0) || !(n2 > 0)) return null
  const p1 = x1 / n1
  const p2 = x2 / n2
  const [l1, u1] = wilsonInterval(x1, n1, z)
  const [l2, u2] = wilsonInterval(x2, n2, z)
  const d = p1 - p2
  return [d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)]
}

/** Smallest expected count of conversions and of non-conversions per arm for the z-test. */
export const MIN_EXPECTED = 5

/**
 * Whether the normal approximation behind the z-test and interval is fair: with the pooled
 * rate p̂, every arm expects at least 5 conversions and 5 non-conversions (nᵢp̂ ≥ 5, nᵢ(1−p̂) ≥ 5).
 */
export function enoughData(x1: number, n1: number, x2: number, n2: number): boolean {
  if (!(n1 > 0) || !(n2 > 0)) return false
  const pooled = (x1 + x2) / (n1 + n2)
  return [n1, n2].every((n) => n * pooled >= MIN_EXPECTED && n * (1 - pooled) >= MIN_EXPECTED)
}

export interface ChiSquareTest {
  chiSquare: number
  degreesOfFreedom: number
  pValue: number
}

/**
 * Pearson's chi-square goodness of fit of observed counts against expected shares (which are
 * normalized here): Σ (Oᵢ − Eᵢ)² / Eᵢ with k − 1 degrees of freedom. Null with fewer than two
 * categories, a zero total, or any expected count below 5 (the approximation is then unfair).
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], shares: readonly number[]): ChiSquareTest | null {
  if (observed.length !== shares.length || observed.length < 2) return null
  const total = observed.reduce((a, b) => a + b, 0)
  const shareSum = shares.reduce((a, b) => a + b, 0)
  if (!(total > 0) || !(shareSum > 0)) return null
  let chi = 0
  for (let i = 0; i < observed.length; i++) {
    const expected = (total * (shares[i] as number)) / shareSum
    if (!(expected >= MIN_EXPECTED)) return null
    chi += ((observed[i] as number) - expected) ** 2 / expected
  }
  const df = observed.length - 1
  return { chiSquare: chi, degreesOfFreedom: df, pValue: chiSquareSf(chi, df) }
}
