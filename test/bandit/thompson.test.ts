import { describe, expect, it } from 'vitest'
import { allocate, splitPercent } from '../../src/bandit/allocate'
import { beta, binomial, gamma, seededRng } from '../../src/util/random'
import { probabilityOfBest, sharesWithFloor } from '../../src/bandit/thompson'
import { chiSquareSf, lnGamma } from '../../src/measure/stats'
import reference from '../fixtures/bandit/reference.json'

const lnBeta = (a: number, b: number) => lnGamma(a) + lnGamma(b) - lnGamma(a + b)

/**
 * P(B > A) for A ~ Beta(aA, bA), B ~ Beta(aB, bB) with integer aB: the closed form published by
 * Evan Miller ("Formulas for Bayesian A/B testing", 2015), an independent reference for the
 * Monte Carlo estimate.
 */
function pBBeatsA(aA: number, bA: number, aB: number, bB: number): number {
  let total = 0
  for (let i = 0; i < aB; i++) total += Math.exp(lnBeta(aA + i, bA + bB) - Math.log(bB + i) - lnBeta(1 + i, bB) - lnBeta(aA, bA))
  return total
}

describe('random draws', () => {
  it('are reproducible from a seed and differ between seeds', () => {
    const a = seededRng(7)
    const b = seededRng(7)
    const c = seededRng(8)
    const xs = [a(), a(), a()]
    expect([b(), b(), b()]).toEqual(xs)
    expect(c()).not.toBe(xs[0])
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true)
  })

  it('Gamma and Beta draws have the textbook mean and variance', () => {
    const rng = seededRng(1)
    const n = 40_000
    for (const [shape] of [[0.5], [3], [120.5]] as const) {
      const xs = Array.from({ length: n }, () => gamma(shape, rng))
      const mean = xs.reduce((s, x) => s + x, 0) / n
      const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)
      // Gamma(k, 1): mean k, variance k; the mean's standard error is √(k/n).
      expect(Math.abs(mean - shape)).toBeLessThan(4 * Math.sqrt(shape / n))
      expect(variance / shape).toBeGreaterThan(0.95)
      expect(variance / shape).toBeLessThan(1.05)
    }
    const [a, b] = [12, 88]
    const xs = Array.from({ length: n }, () => beta(a, b, rng))
    const mean = xs.reduce((s, x) => s + x, 0) / n
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)
    const trueVar = (a * b) / ((a + b) ** 2 * (a + b + 1))
    expect(Math.abs(mean - a / (a + b))).toBeLessThan(4 * Math.sqrt(trueVar / n))
    expect(variance / trueVar).toBeGreaterThan(0.95)
    expect(variance / trueVar).toBeLessThan(1.05)
  })

  it('Beta draws follow SciPy’s quantiles (empirical CDF within 4 standard errors at 7 quantiles)', () => {
    const rng = seededRng(9)
    const n = 20_000
    for (const b of reference.betaQuantiles) {
      const xs = Array.from({ length: n }, () => beta(b.alpha, b.beta, rng))
      b.q.forEach((q, i) => {
        const below = xs.filter((x) => x <= (b.x[i] as number)).length / n
        expect(Math.abs(below - q)).toBeLessThan(4 * Math.sqrt((q * (1 - q)) / n))
      })
    }
  })

  it('the chi-square survival function used by the sample-ratio check matches SciPy', () => {
    for (const c of reference.chiSquareSf) expect(chiSquareSf(c.x, c.df)).toBeCloseTo(c.sf, 10)
  })

  it('binomial draws have mean np on both the exact and the approximate path', () => {
    const rng = seededRng(3)
    for (const [n, p] of [
      [50, 0.1],
      [5000, 0.11],
    ] as const) {
      const runs = 4000
      let s = 0
      for (let i = 0; i < runs; i++) s += binomial(n, p, rng)
      expect(Math.abs(s / runs - n * p)).toBeLessThan(4 * Math.sqrt((n * p * (1 - p)) / runs))
    }
  })
})

describe('probability of being best (Monte Carlo)', () => {
  it('matches the closed form for two arms within 4 standard errors', () => {
    const cases = [
      [1 + 100, 1 + 900, 1 + 120, 1 + 880],
      [1 + 10, 1 + 90, 1 + 11, 1 + 89],
      [1 + 5, 1 + 995, 1 + 9, 1 + 991],
    ] as const
    const draws = 40_000
    for (const [aA, bA, aB, bB] of cases) {
      const exact = pBBeatsA(aA, bA, aB, bB)
      const [, mc] = probabilityOfBest(
        [
          { alpha: aA, beta: bA },
          { alpha: aB, beta: bB },
        ],
        seededRng(aA * 31 + aB),
        draws,
      )
      expect(Math.abs((mc as number) - exact)).toBeLessThan(4 * Math.sqrt((exact * (1 - exact)) / draws) + 1e-9)
    }
  })

  it('matches SciPy’s numerical integration for 2 to 4 arms within 4 standard errors (test/fixtures/bandit)', () => {
    const draws = 40_000
    reference.probabilityOfBest.forEach((c, i) => {
      const mc = probabilityOfBest(
        c.posteriors.map(([alpha, beta]) => ({ alpha: alpha as number, beta: beta as number })),
        seededRng(100 + i),
        draws,
      )
      c.pBest.forEach((p, k) => {
        expect(Math.abs((mc[k] as number) - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / draws) + 1e-4)
      })
    })
  })

  it('sums to 1 and is symmetric for identical arms', () => {
    const p = probabilityOfBest(
      [
        { alpha: 11, beta: 91 },
        { alpha: 11, beta: 91 },
        { alpha: 11, beta: 91 },
      ],
      seededRng(5),
      30_000,
    )
    expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12)
    for (const x of p) expect(Math.abs(x - 1 / 3)).toBeLessThan(0.015)
  })
})

describe('allocation', () => {
  const config = { split: { a: 1, b: 1, control: 2 }, arms: ['a', 'b', 'control'], burnIn: 100, floor: 1 }
  const period = (a: [number, number], b: [number, number], c: [number, number], from = 0) => ({
    from,
    arms: {
      a: { visitors: a[0], conversions: a[1] },
      b: { visitors: b[0], conversions: b[1] },
      control: { visitors: c[0], conversions: c[1] },
    },
  })

  it('keeps the configured split until every arm has burnIn visitors', () => {
    const rng = seededRng(1)
    const early = allocate(config, [period([500, 100], [99, 1], [500, 10])], rng)
    expect(early.phase).toBe('burn-in')
    expect(early.weights).toEqual({ a: 25, b: 25, control: 50 })
    expect(early.probabilityBest).toBeNull()
    const later = allocate(config, [period([500, 100], [99, 1], [500, 10]), period([0, 0], [1, 0], [0, 0], 1)], rng)
    expect(later.phase).toBe('adaptive')
  })

  it('moves traffic to the clearly better arm and keeps the floor for the others', () => {
    const out = allocate(config, [period([2000, 400], [2000, 200], [2000, 200])], seededRng(2))
    expect(out.weights.a).toBeGreaterThan(97)
    expect(out.weights.b).toBeGreaterThanOrEqual(1)
    expect(out.weights.control).toBeGreaterThanOrEqual(1)
    expect(Object.values(out.weights).reduce((s, w) => s + w, 0)).toBeCloseTo(100, 9)
  })

  it('floor: each arm keeps at least floor percent, shares sum to 100', () => {
    expect(sharesWithFloor([1, 0, 0], 5)).toEqual([90, 5, 5])
    expect(sharesWithFloor([0.5, 0.5], 0)).toEqual([50, 50])
    const s = sharesWithFloor([0.2, 0.3, 0.5], 10)
    expect(s.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 12)
    expect(Math.min(...s)).toBeGreaterThanOrEqual(10)
  })

  it('splitPercent ignores retired arms', () => {
    expect(splitPercent({ split: { a: 3, b: 1, c: 0 }, arms: ['a', 'b'] })).toEqual({ a: 75, b: 25 })
  })
})
