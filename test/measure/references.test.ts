import { describe, expect, it } from 'vitest'
import { cuped } from '../../src/measure/cuped'
import { benjaminiHochberg, holm } from '../../src/measure/multiple'
import { mixtureRho, sequenceHalfwidth } from '../../src/measure/sequential'
import { normalQuantile, regularizedBeta, studentQuantile, studentTwoSidedP, welchTest } from '../../src/measure/stats'
import ref from '../fixtures/measure/stats.json'

// Every expected value here comes from outside this code base: SciPy/statsmodels figures
// recorded by test/fixtures/measure/make_stats_fixtures.py, and the worked examples of
// GrowthBook's published sequential-testing tests (gbstats, TestSequentialTTest).

const close = (got: number | null | undefined, want: number, rel = 1e-9) =>
  expect(Math.abs((got ?? Number.NaN) - want)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)))

describe('distributions (SciPy)', () => {
  it('normal quantile, Student t tails and quantiles, incomplete beta', () => {
    for (const [p, want] of ref.normal_quantile as [number, number][]) close(normalQuantile(p), want, 1e-10)
    for (const [t, df, want] of ref.student_two_sided_p as [number, number, number][]) close(studentTwoSidedP(t, df), want, 1e-10)
    for (const [a, df, want] of ref.student_quantile as [number, number, number][]) close(studentQuantile(a, df), want, 1e-8)
    for (const [x, a, b, want] of ref.regularized_beta as [number, number, number, number][])
      close(regularizedBeta(x, a, b), want, 1e-10)
  })
})

describe("Welch's t-test for value goals (scipy.stats.ttest_ind, equal_var=False)", () => {
  it('matches t, p, df and the 95% interval from sufficient statistics', () => {
    for (const w of ref.welch) {
      const [n1, s1, q1] = w.b as [number, number, number]
      const [n2, s2, q2] = w.a as [number, number, number]
      const got = welchTest(n1, s1, q1, n2, s2, q2)
      close(got?.t, w.t, 1e-8)
      close(got?.pValue, w.p, 1e-8)
      close(got?.df, w.df, 1e-8)
      close(got?.ci95[0], w.ci[0] as number, 1e-8)
      close(got?.ci95[1], w.ci[1] as number, 1e-8)
    }
  })
})

describe('multiple comparisons (statsmodels multipletests)', () => {
  it('Holm and Benjamini–Hochberg adjusted p-values; nulls are skipped', () => {
    const p = ref.multiple.p
    for (const [i, v] of holm(p).entries()) close(v, ref.multiple.holm[i] as number, 1e-12)
    for (const [i, v] of benjaminiHochberg(p).entries()) close(v, ref.multiple.bh[i] as number, 1e-12)
    expect(holm([null, 0.01, null, 0.04])).toEqual([null, 0.02, null, 0.04])
  })
})

describe('CUPED (statsmodels OLS y ~ arm + x)', () => {
  it('the adjusted lift is the treatment coefficient of the regression; the interval matches its standard error', () => {
    for (const c of ref.cuped) {
      const got = cuped(c.control, c.arm)
      close(got?.lift, c.ols_lift, 1e-9)
      // Per-arm variances (CUPED) against OLS's pooled residual variance: close with balanced arms.
      expect(Math.abs((got?.se ?? 0) / c.ols_se - 1)).toBeLessThan(0.01)
      // Variance removed ≈ ρ²(x, y), the theory of Deng et al. (2013).
      expect(Math.abs((got?.varianceReduction ?? 0) - c.corr_xy ** 2)).toBeLessThan(0.01)
    }
  })

  it('null when the covariate does not vary or an arm is empty', () => {
    const flat = { n: 100, sy: 10, syy: 10, sx: 0, sxx: 0, sxy: 0 }
    expect(cuped(flat, flat)).toBeNull()
    expect(cuped({ ...flat, n: 1 }, flat)).toBeNull()
  })
})

describe('confidence sequence (normal mixture, Howard et al. 2021)', () => {
  it('equals the boundary found by numerically integrating the mixture martingale (SciPy quad + brentq)', () => {
    for (const s of ref.sequence) {
      close(mixtureRho(s.alpha, s.tuning) ** 2, s.rho2, 1e-12)
      close(sequenceHalfwidth(1, s.n, s.alpha, s.tuning), s.halfwidth_unit_se, 1e-7)
    }
  })

  it("reproduces GrowthBook's published sequential intervals (relative lift, delta method)", () => {
    // gbstats TestSequentialTTest.test_sequential_test_runs_prop: N* = 5000 (default).
    const rel = (ma: number, va: number, na: number, mb: number, vb: number, nb: number, tuning: number) => {
      const est = mb / ma - 1
      const v = vb / (nb * ma * ma) + (va * mb * mb) / (na * ma ** 4)
      const h = sequenceHalfwidth(Math.sqrt(v), na + nb, 0.05, tuning) ?? Number.NaN
      return [est - h, est + h].map((x) => Math.round(x * 1e5) / 1e5)
    }
    const pa = 1396 / 3000
    const pb = 2422 / 3461
    expect(rel(pa, pa * (1 - pa), 3000, pb, pb * (1 - pb), 3461, 5000)).toEqual([0.40098, 0.60675])
    // test_sequential_test_runs: sample means (sum, sum of squares), N* = 1000.
    const mv = (s: number, ss: number, n: number) => [s / n, (ss - (s * s) / n) / (n - 1)] as const
    const [ma, va] = mv(1396.87, 52377.9767, 3000)
    const [mb, vb] = mv(2422.7, 134698.29, 3461)
    expect(rel(ma, va, 3000, mb, vb, 3461, 1000)).toEqual([-0.55844, 1.56516])
  })

  it('is narrowest around N* and always wider than the fixed 95% interval', () => {
    const at = (n: number) => sequenceHalfwidth(1, n) ?? 0
    expect(at(5000)).toBeLessThan(at(1000))
    expect(at(5000)).toBeLessThan(at(50_000))
    for (const n of [10, 100, 5000, 1e6]) expect(at(n)).toBeGreaterThan(1.96)
    expect(sequenceHalfwidth(0, 100)).toBeNull()
    expect(sequenceHalfwidth(1, 0)).toBeNull()
  })
})
