import type { BanditConfig } from './config'
import { periodWeightedEstimates, type PeriodCounts } from './estimate'
import type { Rng } from '../util/random'
import { DEFAULT_DRAWS, probabilityOfBest, sharesWithFloor, type BetaPosterior } from './thompson'

/** What one update decided. */
export interface Allocation {
  /** Arm → percent of new visitors, summing to 100. */
  weights: Record<string, number>
  /** `burn-in` while some arm has fewer than `burnIn` visitors: the configured split is kept. */
  phase: 'burn-in' | 'adaptive'
  /** P(arm is best) under the posteriors; null during burn-in. */
  probabilityBest: Record<string, number> | null
}

/** The configured split as percentages of its positive-weight arms. */
export function splitPercent(config: Pick<BanditConfig, 'split' | 'arms'>): Record<string, number> {
  const total = config.arms.reduce((s, a) => s + (config.split[a] ?? 0), 0)
  return Object.fromEntries(config.arms.map((a) => [a, total > 0 ? (100 * (config.split[a] ?? 0)) / total : 0]))
}

/**
 * Beta posteriors (uniform prior) from the period-weighted estimates: an arm's effective
 * visitors n_eff and effective conversions rate·n_eff. With the same weights in every period this
 * is exactly Beta(1 + x, 1 + n − x); when the weights moved, the posterior is as wide as the
 * unbiased estimate allows, so Simpson's paradox cannot feed the allocation.
 */
export function posteriors(periods: readonly PeriodCounts[], arms: readonly string[]): BetaPosterior[] {
  const est = periodWeightedEstimates(periods, arms)
  return est.arms.map((a) => {
    if (a.rate === null || !(a.effectiveVisitors > 0)) {
      return { alpha: 1 + a.conversions, beta: 1 + Math.max(0, a.visitors - a.conversions) }
    }
    return { alpha: 1 + a.rate * a.effectiveVisitors, beta: 1 + (1 - a.rate) * a.effectiveVisitors }
  })
}

/**
 * The next weights of a bandit from its per-period counts (SPEC 14): the configured split until
 * every arm has `burnIn` visitors, then Thompson sampling (P(best) by Monte Carlo) with
 * `floor` percent kept for every arm.
 */
export function allocate(
  config: Pick<BanditConfig, 'split' | 'arms' | 'burnIn' | 'floor'>,
  periods: readonly PeriodCounts[],
  rng: Rng,
  draws: number = DEFAULT_DRAWS,
): Allocation {
  const visitors = (arm: string) => periods.reduce((s, p) => s + (p.arms[arm]?.visitors ?? 0), 0)
  if (config.arms.length < 2 || config.arms.some((a) => visitors(a) < config.burnIn)) {
    return { weights: splitPercent(config), phase: 'burn-in', probabilityBest: null }
  }
  const best = probabilityOfBest(posteriors(periods, config.arms), rng, draws)
  const shares = sharesWithFloor(best, config.floor)
  return {
    weights: Object.fromEntries(config.arms.map((a, i) => [a, shares[i] as number])),
    phase: 'adaptive',
    probabilityBest: Object.fromEntries(config.arms.map((a, i) => [a, best[i] as number])),
  }
}
