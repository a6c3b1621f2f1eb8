import { CONTROL } from '../rules/compile'
import { twoSidedP, Z95 } from '../measure/stats'
import type { BanditConfig } from './config'
import { periodWeightedEstimates } from './estimate'
import { periodsOf, readPeriodHistory, type BanditCountsSource, type PeriodWeights } from './periods'
import { banditSampleRatio, type BanditSrm, type WeightedPeriod } from './srm'
import { posteriors, splitPercent } from './allocate'
import { probabilityOfBest } from './thompson'
import type { Rng } from '../util/random'

export interface BanditArmResult {
  arm: string
  /** Visitors first exposed to the arm, and those who reached the bandit's goal. */
  visitors: number
  conversions: number
  /** Pooled rate conversions/visitors: shown for reference, biased under adaptive allocation. */
  pooledRate: number | null
  /** Period-weighted rate (docs/experiments.md "Bandits"): the estimate to read. */
  rate: number | null
  se: number | null
  ci95: [number, number] | null
  /** Difference of period-weighted rates from control, its 95% interval and two-sided p-value. */
  lift: number | null
  liftCi95: [number, number] | null
  pValue: number | null
  /** Posterior probability that this arm is the best (Thompson sampling's view now). */
  probabilityBest: number | null
  /** Percent of new visitors the arm gets now. */
  weight: number
}

export interface BanditResults {
  experiment: string
  goal: string
  control: string
  phase: 'burn-in' | 'adaptive'
  settings: { burnIn: number; floor: number; every: number }
  /** The weights in force now and since when (null: the configured split, no update yet). */
  weightsInForce: { from: number | null; weights: Record<string, number> }
  periods: { from: number | null; weights: Record<string, number>; visitors: number }[]
  periodsUsed: number
  periodsSkipped: number
  arms: BanditArmResult[]
  srm: BanditSrm | null
  notes: string[]
}

/**
 * Results of a bandit from its periods (SPEC 14): period-weighted rates per arm with intervals
 * and the difference from control, P(best), and the sample-ratio check against the weights in
 * force in each period.
 */
export function buildBanditResults(
  config: BanditConfig,
  history: readonly PeriodWeights[],
  periods: readonly WeightedPeriod[],
  now: number,
  rng: Rng,
): BanditResults {
  const arms = config.arms
  const control = arms.includes(CONTROL) ? CONTROL : (arms[0] ?? CONTROL)
  const est = periodWeightedEstimates(
    periods.map((p) => p.counts),
    arms,
  )
  let inForce: PeriodWeights | undefined
  for (const h of history) if (h.from <= now) inForce = h
  const weights = inForce?.weights ?? splitPercent(config)
  const byArm = new Map(est.arms.map((a) => [a.arm, a]))
  const c = byArm.get(control)
  const haveData = est.periodsUsed > 0
  const best = haveData
    ? probabilityOfBest(
        posteriors(
          periods.map((p) => p.counts),
          arms,
        ),
        rng,
      )
    : null
  const notes: string[] = []
  if (!haveData) notes.push('no period has visitors in every arm yet: no estimates')
  if (est.periodsSkipped > 0)
    notes.push(`${est.periodsSkipped} period(s) left out of the estimates: some arm had no visitor in them`)
  const results: BanditArmResult[] = arms.map((arm, i) => {
    const a = byArm.get(arm)
    const visitors = a?.visitors ?? 0
    const conversions = a?.conversions ?? 0
    const rate = a?.rate ?? null
    const se = a?.se ?? null
    const out: BanditArmResult = {
      arm,
      visitors,
      conversions,
      pooledRate: visitors > 0 ? conversions / visitors : null,
      rate,
      se,
      ci95: rate !== null && se !== null ? [rate - Z95 * se, rate + Z95 * se] : null,
      lift: null,
      liftCi95: null,
      pValue: null,
      probabilityBest: best === null ? null : (best[i] ?? null),
      weight: weights[arm] ?? 0,
    }
    if (arm !== control && rate !== null && se !== null && c?.rate != null && c.se != null) {
      const lift = rate - c.rate
      const seLift = Math.sqrt(se * se + c.se * c.se)
      out.lift = lift
      out.liftCi95 = [lift - Z95 * seLift, lift + Z95 * seLift]
      out.pValue = seLift > 0 ? twoSidedP(lift / seLift) : null
    }
    return out
  })
  const srm = banditSampleRatio(periods)
  if (srm?.mismatch === true)
    notes.push(
      'sample-ratio mismatch: visitors did not arrive in the proportions of the weights in force; check assignment and recording',
    )
  if (srm === null) notes.push('not enough data for the sample-ratio check (needs 5 expected visitors per arm in a period)')
  return {
    experiment: config.experiment,
    goal: config.goal,
    control,
    phase: inForce?.phase ?? 'burn-in',
    settings: { burnIn: config.burnIn, floor: config.floor, every: config.every },
    weightsInForce: { from: inForce?.from ?? null, weights },
    periods: periods.map((p) => ({
      from: p.counts.from > 0 ? p.counts.from : null,
      weights: p.weights,
      visitors: Object.values(p.counts.arms).reduce((s, a) => s + a.visitors, 0),
    })),
    periodsUsed: est.periodsUsed,
    periodsSkipped: est.periodsSkipped,
    arms: results,
    srm,
    notes,
  }
}

/** Reads the history of weights and the counts, and computes a bandit's results. */
export async function banditResults(
  db: D1Database,
  config: BanditConfig,
  source: BanditCountsSource,
  now: number,
  rng: Rng,
): Promise<BanditResults> {
  const [history, buckets] = await Promise.all([readPeriodHistory(db, config.experiment), source(config)])
  return buildBanditResults(config, history, periodsOf(config, history, buckets), now, rng)
}

/**
 * A bandit's figures laid into the experiment results of `GET api/results/:experimentId`
 * (src/measure/results.ts): `bandit` carries the period-weighted estimates, and `srm` becomes
 * the check against the weights in force per period (the pooled split of a bandit never matches
 * its configured one, so that check would always cry mismatch).
 */
export function withBandit<T extends { srm: unknown; notes: string[] }>(
  results: T,
  bandit: BanditResults,
): T & { bandit: BanditResults } {
  const srm =
    bandit.srm === null
      ? null
      : {
          chiSquare: bandit.srm.chiSquare,
          degreesOfFreedom: bandit.srm.degreesOfFreedom,
          pValue: bandit.srm.pValue,
          mismatch: bandit.srm.mismatch,
          note: `against the weights in force in each of ${bandit.srm.periodsTested} period(s) (bandit)`,
        }
  return {
    ...results,
    srm,
    bandit,
    notes: [
      'adaptive allocation (bandit): rates, lifts and the decision above pool all periods and are biased when the weights moved; read "bandit" for period-weighted estimates',
      ...results.notes,
      ...bandit.notes.map((n) => `bandit: ${n}`),
    ],
  }
}
