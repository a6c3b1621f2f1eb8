import { chiSquareSf, MIN_EXPECTED } from '../measure/stats'
import type { PeriodCounts } from './estimate'

/** The sample-ratio check flags a mismatch below this p-value (as for fixed splits). */
export const BANDIT_SRM_ALPHA = 0.001

export interface BanditSrm {
  chiSquare: number
  degreesOfFreedom: number
  pValue: number
  mismatch: boolean
  /** Periods tested, and periods left out because some arm expected fewer than 5 visitors. */
  periodsTested: number
  periodsSkipped: number
}

/** A period's counts with the weights that were in force during it (arm → weight, any scale). */
export interface WeightedPeriod {
  counts: PeriodCounts
  weights: Readonly<Record<string, number>>
}

/**
 * Sample-ratio check of a bandit against the weights in force in each period: per period,
 * Pearson's Σ (O − E)²/E with E = N_t·π_kt, summed over periods, with (K_t − 1) degrees of
 * freedom per period. Periods are independent given their weights, so the sum is chi-square
 * with the summed degrees of freedom. A pooled test against the average weights would not be:
 * the pooled counts are a sum of multinomials with different probabilities. Periods in which an
 * arm of positive weight expects fewer than 5 visitors are left out (the approximation is then
 * unfair); visitors in an arm of weight 0 make it a mismatch outright. Null when no period can be tested.
 */
export function banditSampleRatio(periods: readonly WeightedPeriod[]): BanditSrm | null {
  let chi = 0
  let df = 0
  let tested = 0
  let outside = false
  for (const { counts, weights } of periods) {
    const arms = Object.keys(weights).filter((a) => (weights[a] ?? 0) > 0)
    const totalWeight = arms.reduce((s, a) => s + (weights[a] ?? 0), 0)
    const n = arms.reduce((s, a) => s + (counts.arms[a]?.visitors ?? 0), 0)
    for (const [arm, c] of Object.entries(counts.arms)) if (!arms.includes(arm) && c.visitors > 0) outside = true
    if (arms.length < 2 || !(n > 0)) continue
    const expected = arms.map((a) => (n * (weights[a] ?? 0)) / totalWeight)
    if (expected.some((e) => !(e >= MIN_EXPECTED))) continue
    arms.forEach((a, i) => {
      const e = expected[i] as number
      chi += ((counts.arms[a]?.visitors ?? 0) - e) ** 2 / e
    })
    df += arms.length - 1
    tested++
  }
  if (tested === 0) return null
  const pValue = chiSquareSf(chi, df)
  return {
    chiSquare: chi,
    degreesOfFreedom: df,
    pValue,
    mismatch: outside || pValue < BANDIT_SRM_ALPHA,
    periodsTested: tested,
    periodsSkipped: periods.length - tested,
  }
}
