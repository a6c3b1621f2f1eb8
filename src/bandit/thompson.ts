import { beta, type Rng } from '../util/random'

/** A Beta posterior of one arm's conversion rate: Beta(alpha, beta). */
export interface BetaPosterior {
  alpha: number
  beta: number
}

/** Monte Carlo draws per update: the standard error of a probability is at most 0.5/√draws = 0.5 points. */
export const DEFAULT_DRAWS = 10_000

/**
 * P(arm k has the highest rate) for each arm, by Monte Carlo: `draws` joint draws from the
 * posteriors, counting which arm is largest (Thompson sampling's allocation, Chapelle and Li 2011).
 * Sums to 1. Checked against numerical integration with SciPy (test/fixtures/bandit/).
 */
export function probabilityOfBest(posteriors: readonly BetaPosterior[], rng: Rng, draws: number = DEFAULT_DRAWS): number[] {
  const wins = new Array<number>(posteriors.length).fill(0)
  if (posteriors.length === 0) return wins
  for (let d = 0; d < draws; d++) {
    let best = 0
    let bestValue = -1
    for (let k = 0; k < posteriors.length; k++) {
      const p = posteriors[k] as BetaPosterior
      const v = beta(p.alpha, p.beta, rng)
      if (v > bestValue) {
        bestValue = v
        best = k
      }
    }
    wins[best] = (wins[best] as number) + 1
  }
  return wins.map((w) => w / draws)
}

/**
 * Traffic shares in percent from probabilities of being best, with a floor per arm:
 * `floor + (100 − K·floor) · P(best)`. Every arm keeps at least `floor` percent so the losing
 * arms are still measured in every period (the period-weighted estimates need visitors in each).
 */
export function sharesWithFloor(probabilities: readonly number[], floorPercent: number): number[] {
  const k = probabilities.length
  const floor = Math.min(Math.max(floorPercent, 0), 100 / Math.max(k, 1))
  const free = 100 - k * floor
  return probabilities.map((p) => floor + free * p)
}
