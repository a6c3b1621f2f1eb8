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

/**
 * Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation, relative error
 * 1.15e-9, then one Halley step on `normalCdf`, which brings it to ~1e-15).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError('normalQuantile needs 0 < p < 1')
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783,
  ]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const at = (arr: number[], i: number) => arr[i] as number
  let x: number
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p))
    x =
      (((((at(c, 0) * q + at(c, 1)) * q + at(c, 2)) * q + at(c, 3)) * q + at(c, 4)) * q + at(c, 5)) /
      ((((at(d, 0) * q + at(d, 1)) * q + at(d, 2)) * q + at(d, 3)) * q + 1)
  } else if (p <= 1 - 0.02425) {
    const q = p - 0.5
    const r = q * q
    x =
      ((((((at(a, 0) * r + at(a, 1)) * r + at(a, 2)) * r + at(a, 3)) * r + at(a, 4)) * r + at(a, 5)) * q) /
      (((((at(b, 0) * r + at(b, 1)) * r + at(b, 2)) * r + at(b, 3)) * r + at(b, 4)) * r + 1)
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p))
    x =
      -(((((at(c, 0) * q + at(c, 1)) * q + at(c, 2)) * q + at(c, 3)) * q + at(c, 4)) * q + at(c, 5)) /
      ((((at(d, 0) * q + at(d, 1)) * q + at(d, 2)) * q + at(d, 3)) * q + 1)
  }
  const e = normalCdf(x) - p
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2)
  return x - u / (1 + (x * u) / 2)
}

/** Continued fraction of the regularized incomplete beta (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) break
  }
  return h
}

/** Regularized incomplete beta I_x(a, b), for a, b > 0 and 0 ≤ x ≤ 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1)) throw new RangeError('regularizedBeta needs a, b > 0 and 0 ≤ x ≤ 1')
  if (x === 0 || x === 1) return x
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b
}

/** Two-sided p-value of Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, ½). */
export function studentTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError('Student t needs df > 0')
  if (!Number.isFinite(t)) return 0
  return regularizedBeta(df / (df + t * t), df / 2, 0.5)
}

/** The Student t quantile t_{1−α/2, df} (bisection on the two-sided p-value; df > 0). */
export function studentQuantile(alpha: number, df: number): number {
  if (df > 1e7) return normalQuantile(1 - alpha / 2)
  let lo = 0
  let hi = 1
  while (studentTwoSidedP(hi, df) > alpha) hi *= 2
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2
    if (studentTwoSidedP(mid, df) > alpha) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/** Mean and unbiased variance of one arm from n, Σy and Σy² (null below two observations). */
export function meanAndVariance(n: number, sum: number, sum2: number): { mean: number; variance: number } | null {
  if (!(n >= 2)) return null
  const mean = sum / n
  return { mean, variance: Math.max(0, (sum2 - n * mean * mean) / (n - 1)) }
}

export interface WelchTest {
  diff: number
  t: number
  df: number
  pValue: number
  ci95: [number, number]
}

/**
 * Welch's unequal-variance t-test of mean₁ − mean₂ from sufficient statistics (n, Σy, Σy²),
 * with the Welch–Satterthwaite degrees of freedom and a 95% interval. Null when either arm has
 * fewer than two visitors or both variances are 0.
 */
export function welchTest(
  n1: number,
  sum1: number,
  sumSq1: number,
  n2: number,
  sum2: number,
  sumSq2: number,
  alpha = 0.05,
): WelchTest | null {
  const a = meanAndVariance(n1, sum1, sumSq1)
  const b = meanAndVariance(n2, sum2, sumSq2)
  if (a === null || b === null) return null
  const v1 = a.variance / n1
  const v2 = b.variance / n2
  const se2 = v1 + v2
  if (!(se2 > 0)) return null
  const se = Math.sqrt(se2)
  const diff = a.mean - b.mean
  const df = (se2 * se2) / ((v1 * v1) / (n1 - 1) + (v2 * v2) / (n2 - 1))
  const t = diff / se
  const q = studentQuantile(alpha, df)
  return { diff, t, df, pValue: studentTwoSidedP(t, df), ci95: [diff - q * se, diff + q * se] }
}
