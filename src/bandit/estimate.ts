/**
 * Period-weighted estimates for an adaptive experiment (docs/experiments.md, "Bandits").
 *
 * A bandit changes each arm's share from period to period, so the pooled rate of an arm
 * (all its conversions over all its visitors) mixes periods in proportions the bandit chose.
 * When the base rate moves over time (weekday, campaign) that is Simpson's paradox: the arm that
 * got more traffic in a good period looks better. And since the allocation follows the arm's
 * own past results, the pooled rate is biased low for arms that were unlucky early (Nie et al.
 * 2018, "Why adaptively collected data have negative bias").
 *
 * Instead, per period t the arm's rate x_kt/n_kt is unbiased (inside a period the allocation is
 * fixed before any of its visitors arrive, and assignment is by hash, independent of outcome);
 * the estimate is their average with fixed weights w_t = N_t/ΣN, the period's share of all
 * visitors, which does not depend on the arm. Every arm gets the same weights, so arms are
 * compared on the same mix of periods. Var ≈ p̂_k(1−p̂_k)·Σ w_t²/n_kt. Only periods where every
 * arm has a visitor count (a floor above 0 makes that the rule); the others are reported.
 *
 * Inverse-probability weighting (Σ x_kt/π_kt / ΣN) is also unbiased but uses the planned share
 * π_kt instead of the realised n_kt, which adds the binomial noise of n_kt to the estimate:
 * its variance is larger for the same data, so the stratified form is used.
 */

/** One arm's counts in one period: visitors first exposed in the period, and their conversions. */
export interface ArmCount {
  visitors: number
  conversions: number
}

/** The counts of one period (a span of time with one set of weights). */
export interface PeriodCounts {
  /** Start of the period, ms since the epoch. */
  from: number
  arms: Readonly<Record<string, ArmCount>>
}

export interface ArmEstimate {
  arm: string
  visitors: number
  conversions: number
  /** Period-weighted conversion rate, or null when no period has visitors in every arm. */
  rate: number | null
  /** Its standard error. */
  se: number | null
  /** Effective sample size: the n for which a plain rate would have the same precision (1/Σ w_t²/n_kt). */
  effectiveVisitors: number
}

export interface PeriodWeightedEstimates {
  arms: ArmEstimate[]
  /** Periods used, and periods left out because an arm had no visitor in them. */
  periodsUsed: number
  periodsSkipped: number
}

function count(p: PeriodCounts, arm: string): ArmCount {
  return p.arms[arm] ?? { visitors: 0, conversions: 0 }
}

/** Period-weighted rates of `arms` from per-period counts (see the module comment). */
export function periodWeightedEstimates(periods: readonly PeriodCounts[], arms: readonly string[]): PeriodWeightedEstimates {
  const used = periods.filter((p) => arms.length > 0 && arms.every((a) => count(p, a).visitors > 0))
  const total = used.reduce((s, p) => s + arms.reduce((t, a) => t + count(p, a).visitors, 0), 0)
  const out: ArmEstimate[] = arms.map((arm) => {
    let visitors = 0
    let conversions = 0
    for (const p of periods) {
      visitors += count(p, arm).visitors
      conversions += count(p, arm).conversions
    }
    if (!(total > 0)) return { arm, visitors, conversions, rate: null, se: null, effectiveVisitors: 0 }
    let rate = 0
    let design = 0
    for (const p of used) {
      const w = arms.reduce((t, a) => t + count(p, a).visitors, 0) / total
      const c = count(p, arm)
      rate += (w * c.conversions) / c.visitors
      design += (w * w) / c.visitors
    }
    // The arm's overall rate in the variance, not each period's: a period with 3 visitors and
    // no conversion would otherwise claim zero variance.
    const se = Math.sqrt(rate * (1 - rate) * design)
    return { arm, visitors, conversions, rate, se, effectiveVisitors: design > 0 ? 1 / design : 0 }
  })
  return { arms: out, periodsUsed: used.length, periodsSkipped: periods.length - used.length }
}
