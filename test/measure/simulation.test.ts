import { describe, expect, it } from 'vitest'
import { simulateCuped, simulatePeeking } from './simulate'

// Small, seeded versions of `node scripts/measure-simulate.mjs` (the full runs and their
// figures are in docs/measurement.md). Known truth, never the code's own output, decides.

const pct = (x: number) => `${(x * 100).toFixed(1)}%`

describe('reading results every day (SPEC 12.1)', () => {
  it('500 A/A experiments read daily for 30 days: cs95 is ever "significant" in at most 5%; the fixed interval far more', () => {
    const f = simulatePeeking({ experiments: 500, days: 30, visitorsPerDay: 200, controlRate: 0.1, lift: 0, seed: 12 })
    console.log(
      `A/A, 500 × 30 daily reads: ever significant cs95 ${pct(f.csEverSignificant)}, fixed 95% interval ${pct(f.fixedEverSignificant)}`,
    )
    expect(f.csEverSignificant).toBeLessThanOrEqual(0.05)
    // The peeking problem is real here: the fixed interval is fooled several times as often.
    expect(f.fixedEverSignificant).toBeGreaterThan(0.15)
    expect(f.csCoveredEveryDay).toBeGreaterThanOrEqual(0.95)
  })

  it('with a true lift (10% → 12%) cs95 covers the truth every day in ≥ 95% of runs and detects it', () => {
    const f = simulatePeeking({ experiments: 300, days: 30, visitorsPerDay: 1_000, controlRate: 0.1, lift: 0.02, seed: 34 })
    console.log(
      `true lift +2 points, 300 × 30 daily reads: cs95 covered every day ${pct(f.csCoveredEveryDay)} (fixed ${pct(f.fixedCoveredEveryDay)}), detected by day 30 ${pct(f.csDetectedAtEnd)}`,
    )
    expect(f.csCoveredEveryDay).toBeGreaterThanOrEqual(0.95)
    expect(f.csDetectedAtEnd).toBeGreaterThanOrEqual(0.9)
  })
})

describe('CUPED with a correlated covariate', () => {
  it('removes the variance theory predicts (ρ²) and narrows the interval by 1 − √(1 − ρ²), within 10%', () => {
    const f = simulateCuped(40, 20_000, 56)
    console.log(
      `CUPED: variance reduction ${pct(f.meanVarianceReduction)} (theory ${pct(f.theoryVarianceReduction)}), interval narrower by ${pct(f.meanNarrowing)} (theory ${pct(f.theoryNarrowing)})`,
    )
    expect(Math.abs(f.meanVarianceReduction / f.theoryVarianceReduction - 1)).toBeLessThan(0.1)
    expect(Math.abs(f.meanNarrowing / f.theoryNarrowing - 1)).toBeLessThan(0.1)
  })
})
