import { pickArm } from '../experiments/bucket'
import { allocate } from './allocate'
import { periodWeightedEstimates, type PeriodCounts } from './estimate'
import { seededRng } from '../util/random'
import { DEFAULT_DRAWS } from './thompson'

/**
 * A bandit simulation with known truth (docs/experiments.md "Bandits", scripts/bandit-simulation.mjs):
 * visitors arrive period by period, each is bucketed with the weights in force (a uniform
 * number through `pickArm`, as the hash does in the Worker) and converts with its arm's true
 * rate; after each period the weights are recomputed from the counts so far, as the scheduled
 * handler does.
 */
export interface SimulationOptions {
  /** True conversion rates, one per arm (arms are named `a0`, `a1`, …). */
  rates: readonly number[]
  periods: number
  visitorsPerPeriod: number
  burnIn?: number
  floor?: number
  draws?: number
  runs: number
  seed: number
  /** Optional multiplier of every rate per period (a time trend), default 1. */
  trend?: (period: number) => number
}

export interface SimulationRun {
  /** Share of the last period's visitors on the best arm. */
  lastShareBest: number
  /** Expected conversions lost against always showing the best arm: Σ n_kt (p_best − p_k). */
  regret: number
  /** The same for a fixed even split. */
  evenRegret: number
  /** Period-weighted estimate and pooled rate per arm, and the truth they aim at. */
  weighted: (number | null)[]
  pooled: (number | null)[]
  truth: number[]
}

export interface SimulationSummary {
  runs: number
  meanLastShareBest: number
  meanRegret: number
  meanEvenRegret: number
  /** Mean (estimate − truth) per arm, in rate units, with its standard error over runs. */
  weightedBias: number[]
  weightedBiasSe: number[]
  pooledBias: number[]
  pooledBiasSe: number[]
}

function armName(i: number): string {
  return `a${i}`
}

/** One simulated experiment. */
export function simulateRun(o: SimulationOptions, seed: number): SimulationRun {
  const rng = seededRng(seed)
  const arms = o.rates.map((_, i) => armName(i))
  const split = Object.fromEntries(arms.map((a) => [a, 1]))
  const config = { split, arms, burnIn: o.burnIn ?? 100, floor: o.floor ?? 1 }
  const best = Math.max(...o.rates)
  const periods: PeriodCounts[] = []
  let regret = 0
  let evenRegret = 0
  let lastShareBest = 0
  const truthSums = o.rates.map(() => 0)
  let totalVisitors = 0
  for (let t = 0; t < o.periods; t++) {
    const { weights } = allocate(config, periods, rng, o.draws ?? DEFAULT_DRAWS)
    const factor = o.trend?.(t) ?? 1
    const counts = arms.map(() => ({ visitors: 0, conversions: 0 }))
    for (let v = 0; v < o.visitorsPerPeriod; v++) {
      const arm = pickArm(weights, rng())
      const k = arm === undefined ? 0 : arms.indexOf(arm)
      const c = counts[k] as { visitors: number; conversions: number }
      c.visitors++
      if (rng() < (o.rates[k] as number) * factor) c.conversions++
    }
    counts.forEach((c, k) => {
      regret += c.visitors * (best - (o.rates[k] as number)) * factor
      evenRegret += (o.visitorsPerPeriod / arms.length) * (best - (o.rates[k] as number)) * factor
      truthSums[k] = (truthSums[k] as number) + o.visitorsPerPeriod * (o.rates[k] as number) * factor
    })
    totalVisitors += o.visitorsPerPeriod
    const bestIndex = o.rates.indexOf(best)
    lastShareBest = (counts[bestIndex]?.visitors ?? 0) / o.visitorsPerPeriod
    periods.push({
      from: t,
      arms: Object.fromEntries(arms.map((a, k) => [a, counts[k] as { visitors: number; conversions: number }])),
    })
  }
  const est = periodWeightedEstimates(periods, arms)
  return {
    lastShareBest,
    regret,
    evenRegret,
    weighted: est.arms.map((a) => a.rate),
    pooled: est.arms.map((a) => (a.visitors > 0 ? a.conversions / a.visitors : null)),
    // With a trend the estimand is the traffic-weighted average rate over the periods.
    truth: truthSums.map((s) => s / totalVisitors),
  }
}

function meanAndSe(xs: readonly number[]): [number, number] {
  const n = xs.length
  const mean = xs.reduce((a, b) => a + b, 0) / n
  const variance = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0
  return [mean, Math.sqrt(variance / n)]
}

/** `runs` simulated experiments with seeds `seed`, `seed + 1`, …, summarised. */
export function simulate(o: SimulationOptions): SimulationSummary {
  const results = Array.from({ length: o.runs }, (_, r) => simulateRun(o, o.seed + r))
  const bias = (pick: (r: SimulationRun) => (number | null)[], k: number) =>
    meanAndSe(results.flatMap((r) => (pick(r)[k] === null ? [] : [(pick(r)[k] as number) - (r.truth[k] as number)])))
  const weighted = o.rates.map((_, k) => bias((r) => r.weighted, k))
  const pooled = o.rates.map((_, k) => bias((r) => r.pooled, k))
  return {
    runs: o.runs,
    meanLastShareBest: meanAndSe(results.map((r) => r.lastShareBest))[0],
    meanRegret: meanAndSe(results.map((r) => r.regret))[0],
    meanEvenRegret: meanAndSe(results.map((r) => r.evenRegret))[0],
    weightedBias: weighted.map((b) => b[0]),
    weightedBiasSe: weighted.map((b) => b[1]),
    pooledBias: pooled.map((b) => b[0]),
    pooledBiasSe: pooled.map((b) => b[1]),
  }
}
