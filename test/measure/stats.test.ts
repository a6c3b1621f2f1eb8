import { seededRng } from '../../src/util/random'
import { describe, expect, it } from 'vitest'
import { type ArmTotals, compareGoal as compareTotals, emptyGoal, NOT_ENOUGH_DATA } from '../../src/measure/analysis'
import { buildResults, type DailyRow } from '../../src/measure/results'
import {
  chiSquareGoodnessOfFit,
  chiSquareSf,
  erf,
  erfc,
  lnGamma,
  newcombeInterval,
  normalCdf,
  regularizedGammaP,
  regularizedGammaQ,
  twoProportionZTest,
} from '../../src/measure/stats'

// Reference values below were computed independently with SciPy 1.17 (scipy.special.erf,
// scipy.stats.norm.cdf, scipy.stats.chi2.sf, scipy.stats.chisquare) and, for the Newcombe
// interval, checked against the worked example of Newcombe (1998), Stat. Med. 17:873, Table II.

describe('special functions', () => {
  it('erf and erfc match reference values to better than 1e-7 (absolute and relative in the tail)', () => {
    const erfRef: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497148],
      [2, 0.9953222650189527],
      [3.5, 0.9999992569016276],
      [-1, -0.8427007929497148],
      [0, 0],
    ]
    for (const [x, want] of erfRef) expect(Math.abs(erf(x) - want)).toBeLessThan(1e-12)
    const erfcRef: [number, number][] = [
      [3, 2.2090496998585445e-5],
      [5, 1.5374597944280347e-12],
      [-1, 1.8427007929497148],
    ]
    for (const [x, want] of erfcRef) expect(Math.abs(erfc(x) - want) / want).toBeLessThan(1e-9)
  })

  it('the normal CDF matches Φ at known points', () => {
    const ref: [number, number][] = [
      [1.96, 0.9750021048517795],
      [-1, 0.15865525393145707],
      [3, 0.9986501019683699],
      [0, 0.5],
    ]
    for (const [z, want] of ref) expect(Math.abs(normalCdf(z) - want)).toBeLessThan(1e-12)
    expect(Math.abs(normalCdf(-6) - 9.865876450376946e-10) / 9.865876450376946e-10).toBeLessThan(1e-9)
  })

  it('ln Γ and the regularized incomplete gamma match reference values', () => {
    expect(lnGamma(0.5)).toBeCloseTo(0.5723649429247004, 12)
    expect(lnGamma(10)).toBeCloseTo(12.801827480081467, 11)
    expect(lnGamma(100.5)).toBeCloseTo(361.4355404677776, 9)
    expect(regularizedGammaP(2.5, 1.5)).toBeCloseTo(0.3000141641213724, 12)
    expect(regularizedGammaQ(7, 20)).toBeCloseTo(0.0002551224958563005, 14)
  })

  it('the chi-square survival function matches critical values and reference tails', () => {
    const ref: [number, number, number][] = [
      [3.841458820694124, 1, 0.05],
      [1, 1, 0.31731050786291115],
      [2, 3, 0.5724067044708798],
      [10.827566170662733, 1, 0.001],
      [16.26623619623813, 3, 0.001],
      [0.5, 2, 0.7788007830714049],
      [100, 49, 2.3646111089850406e-5],
    ]
    for (const [x, k, want] of ref) expect(Math.abs(chiSquareSf(x, k) - want) / want).toBeLessThan(1e-9)
    expect(Math.abs(chiSquareSf(50, 10) - 2.669083424904495e-7) / 2.669083424904495e-7).toBeLessThan(1e-8)
    expect(chiSquareSf(0, 4)).toBe(1)
  })
})

describe('two-proportion tests', () => {
  it('worked example: 240/1000 vs 200/1000', () => {
    // By hand: pooled p = 440/2000 = 0.22, se = √(0.22·0.78·(2/1000)) = 0.0185257,
    // z = 0.04 / 0.0185257 = 2.15917, p = 2·(1 − Φ(2.15917)) = 0.030837.
    const t = twoProportionZTest(240, 1000, 200, 1000)
    expect(t?.z).toBeCloseTo(2.1591675854376513, 10)
    expect(t?.pValue).toBeCloseTo(0.030837167828904312, 10)
    const ci = newcombeInterval(240, 1000, 200, 1000)
    expect(ci?.[0]).toBeCloseTo(0.0036797144977712554, 10)
    expect(ci?.[1]).toBeCloseTo(0.07620266150846111, 10)
  })

  it('Newcombe (1998) worked example 56/70 vs 48/80 gives 0.0524 to 0.3339', () => {
    const ci = newcombeInterval(56, 70, 48, 80)
    expect(ci?.[0]).toBeCloseTo(0.0524, 4)
    expect(ci?.[1]).toBeCloseTo(0.3339, 4)
    const t = twoProportionZTest(56, 70, 48, 80)
    expect(t?.z).toBeCloseTo(2.6501719512585336, 10)
    expect(t?.pValue).toBeCloseTo(0.00804508136819656, 10)
  })

  it('a non-significant difference: 120/1000 vs 100/1000', () => {
    const t = twoProportionZTest(120, 1000, 100, 1000)
    expect(t?.z).toBeCloseTo(1.4293008498232314, 10)
    expect(t?.pValue).toBeCloseTo(0.1529177818639462, 10)
    const ci = newcombeInterval(120, 1000, 100, 1000)
    expect(ci?.[0]).toBeCloseTo(-0.007492167515211052, 10)
    expect(ci?.[1]).toBeCloseTo(0.047550667456339055, 10)
  })

  it('undefined statistics are null, never NaN or Infinity', () => {
    expect(twoProportionZTest(0, 100, 0, 100)).toBeNull() // p̂ = 0: se = 0
    expect(twoProportionZTest(100, 100, 100, 100)).toBeNull() // p̂ = 1
    expect(twoProportionZTest(0, 0, 5, 10)).toBeNull()
    expect(newcombeInterval(0, 0, 5, 10)).toBeNull()
    const ci = newcombeInterval(0, 50, 0, 50)
    expect(ci?.every(Number.isFinite)).toBe(true)
  })
})

const arm = (x: number, n: number): ArmTotals => ({
  visitors: n,
  sumX: 0,
  sumX2: 0,
  goals: new Map([
    ['purchase', { ...emptyGoal(), conversions: x }],
    ['g', { ...emptyGoal(), conversions: x }],
  ]),
})
/** One goal of an arm with x of n converting against control with xc of nc. */
function compareGoal(goal: string, x: number, n: number, xc: number, nc: number, isControl: boolean) {
  const g = compareTotals(goal, arm(xc, nc), arm(x, n), isControl)
  return {
    ...g,
    absoluteLift: g.lift?.abs ?? null,
    relativeLift: g.lift?.rel ?? null,
    significant: g.pValue !== null && g.pValue < 0.05,
  }
}

describe('per-goal comparison', () => {
  it('reports rate, lifts, interval and p-value for the worked example', () => {
    const g = compareGoal('purchase', 240, 1000, 200, 1000, false)
    expect(g.rate).toBeCloseTo(0.24, 12)
    expect(g.absoluteLift).toBeCloseTo(0.04, 12)
    expect(g.relativeLift).toBeCloseTo(0.2, 12)
    expect(g.pValue).toBeCloseTo(0.030837167828904312, 10)
    expect(g.significant).toBe(true)
    expect(g.note).toBeUndefined()
  })

  it('zero conversions in both arms: null figures and a note', () => {
    const g = compareGoal('purchase', 0, 500, 0, 500, false)
    expect(g).toMatchObject({ rate: 0, absoluteLift: null, relativeLift: null, ci95: null, pValue: null, significant: false })
    expect(g.note).toMatch(/no conversions/)
  })

  it('zero conversions in control only: lift and p-value, but no relative lift (no division by zero)', () => {
    const g = compareGoal('purchase', 10, 1000, 0, 1000, false)
    expect(g.pValue).toBeCloseTo(0.0015232716476467959, 10)
    expect(g.ci95?.[0]).toBeCloseTo(0.004047622279061127, 10)
    expect(g.ci95?.[1]).toBeCloseTo(0.018309468870314774, 10)
    expect(g.relativeLift).toBeNull()
    expect(g.note).toMatch(/relative lift is undefined/)
  })

  it('tiny samples: "not enough data" rather than a confident-looking number', () => {
    for (const [x, n, xc, nc] of [
      [1, 3, 0, 2],
      [3, 20, 1, 20],
      [2, 1000, 1, 1000],
      [9, 10, 10, 10],
    ] as const) {
      const g = compareGoal('purchase', x, n, xc, nc, false)
      expect(g.note).toBe(NOT_ENOUGH_DATA)
      expect([g.absoluteLift, g.relativeLift, g.ci95, g.pValue]).toEqual([null, null, null, null])
      expect(g.significant).toBe(false)
    }
  })

  it('an arm without visitors has a null rate and a note', () => {
    const g = compareGoal('purchase', 0, 0, 5, 100, false)
    expect(g.rate).toBeNull()
    expect(g.note).toMatch(/no visitors/)
  })

  it('never produces NaN or Infinity over a grid of small and edge counts', () => {
    const values: unknown[] = []
    for (const n of [0, 1, 2, 5, 30, 1000])
      for (const nc of [0, 1, 7, 1000])
        for (const x of [0, 1, n])
          for (const xc of [0, 1, nc]) {
            if (x > n || xc > nc) continue
            const g = compareGoal('g', x, n, xc, nc, false)
            values.push(g.rate, g.absoluteLift, g.relativeLift, g.pValue, ...(g.ci95 ?? []))
          }
    expect(values.filter((v) => typeof v === 'number' && !Number.isFinite(v))).toEqual([])
    expect(JSON.stringify(values)).not.toMatch(/NaN|Infinity/)
  })
})

describe('sample-ratio mismatch', () => {
  it('matches scipy.stats.chisquare', () => {
    const a = chiSquareGoodnessOfFit([5100, 4900], [50, 50])
    expect(a?.chiSquare).toBeCloseTo(4, 10)
    expect(a?.pValue).toBeCloseTo(0.04550026389635857, 10)
    const b = chiSquareGoodnessOfFit([5200, 4800], [1, 1])
    expect(b?.pValue).toBeCloseTo(6.334248366623988e-5, 12)
    const c = chiSquareGoodnessOfFit([3030, 3000, 2970], [1, 1, 1])
    expect(c).toMatchObject({ degreesOfFreedom: 2 })
    expect(c?.pValue).toBeCloseTo(0.740818220681718, 10)
  })

  it('is flagged below p = 0.001 against the configured split, and not for a fair split', () => {
    const row = (arm: string, visitors: number): DailyRow => ({
      day: '2026-06-01',
      arm,
      goal: '',
      visitors,
      conversions: 0,
      sumValue: 0,
      sumValue2: 0,
      sumX: 0,
      sumX2: 0,
      sumXY: 0,
      sumXV: 0,
    })
    const counts = (a: number, b: number): DailyRow[] => [row('bold', b), row('control', a)]
    const config = {
      placement: 'hero',
      split: [
        ['control', 50],
        ['bold', 50],
      ] as [string, number][],
      control: 'control',
      guardrails: [],
    }
    expect(buildResults('x', config, counts(5200, 4800), [])?.srm?.mismatch).toBe(true)
    expect(buildResults('x', config, counts(5100, 4900), [])?.srm?.mismatch).toBe(false)
    // A 90/10 split observed as 90/10 is fine; observed as 50/50 it is not.
    const uneven = {
      ...config,
      split: [
        ['control', 90],
        ['bold', 10],
      ] as [string, number][],
    }
    expect(buildResults('x', uneven, counts(9000, 1000), [])?.srm?.mismatch).toBe(false)
    expect(buildResults('x', uneven, counts(5000, 5000), [])?.srm?.mismatch).toBe(true)
    // Too few visitors for a fair check: null, not a verdict.
    const tiny = buildResults('x', config, counts(3, 1), [])
    expect(tiny?.srm).toBeNull()
  })
})

describe('simulations (seeded)', () => {
  function simulate(seed: number, n: number, rateA: number, rateB: number) {
    const rnd = seededRng(seed)
    const arms = { a: { n: 0, x: 0 }, b: { n: 0, x: 0 } }
    for (let i = 0; i < n; i++) {
      const arm = rnd() < 0.5 ? arms.a : arms.b
      arm.n++
      if (rnd() < (arm === arms.a ? rateA : rateB)) arm.x++
    }
    return compareGoal('g', arms.b.x, arms.b.n, arms.a.x, arms.a.n, false)
  }

  it('detects a true lift of 10% → 12% over 20,000 visitors, with the true lift inside the interval', () => {
    const g = simulate(20260601, 20_000, 0.1, 0.12)
    expect(g.significant).toBe(true)
    expect(g.pValue).toBeLessThan(0.001)
    expect(g.ci95?.[0]).toBeLessThan(0.02)
    expect(g.ci95?.[1]).toBeGreaterThan(0.02)
  })

  it('an A/A test flags significance at about the nominal 5% over 200 seeds', () => {
    let flagged = 0
    let covered = 0
    const seeds = 200
    for (let seed = 1; seed <= seeds; seed++) {
      const g = simulate(seed * 7919, 4_000, 0.1, 0.1)
      if (g.significant) flagged++
      if (g.ci95 !== null && g.ci95[0] <= 0 && g.ci95[1] >= 0) covered++
    }
    const rate = flagged / seeds
    expect(rate).toBeGreaterThanOrEqual(0.015)
    expect(rate).toBeLessThanOrEqual(0.1)
    // The 95% interval covers the true difference (0) about 95% of the time.
    expect(covered / seeds).toBeGreaterThanOrEqual(0.9)
    console.log(
      `A/A: ${flagged}/${seeds} significant (${(rate * 100).toFixed(1)}%), interval coverage ${((covered / seeds) * 100).toFixed(1)}%`,
    )
  })
})
