import { seededRng } from '../../src/util/random'
/**
 * Seeded simulations with known truth for the statistics of SPEC 12.1. The suite runs small
 * versions (test/measure/simulation.test.ts); `node scripts/measure-simulate.mjs` runs the full
 * ones and prints the figures. Pure: no runtime, no I/O.
 */
import { type ArmTotals, compareGoal, emptyArm, emptyGoal } from '../../src/measure/analysis'

export interface PeekingOptions {
  experiments: number
  days: number
  visitorsPerDay: number
  controlRate: number
  /** Absolute difference arm − control (0 for A/A). */
  lift: number
  seed: number
}

export interface PeekingFigures {
  experiments: number
  /** Share of experiments declared significant on at least one day by cs95 / by the fixed interval. */
  csEverSignificant: number
  fixedEverSignificant: number
  /** Share of experiments whose cs95 contained the true difference on every day it was defined. */
  csCoveredEveryDay: number
  fixedCoveredEveryDay: number
  /** Share of experiments whose cs95 excluded zero on the last day, on the side of the truth. */
  csDetectedAtEnd: number
}

const goal = 'g'
const arm = (): ArmTotals => {
  const a = emptyArm()
  a.goals.set(goal, emptyGoal())
  return a
}

/**
 * Experiments read every day: visitors split 50/50 by coin flip, converting at the control rate
 * (plus `lift` in the arm); each day the cumulative figures are computed exactly as the results
 * endpoint does and checked against the truth.
 */
export function simulatePeeking(o: PeekingOptions): PeekingFigures {
  const rand = seededRng(o.seed)
  let csEver = 0
  let fixedEver = 0
  let csCover = 0
  let fixedCover = 0
  let detected = 0
  for (let e = 0; e < o.experiments; e++) {
    const c = arm()
    const t = arm()
    let csSig = false
    let fixedSig = false
    let csMiss = false
    let fixedMiss = false
    let last: ReturnType<typeof compareGoal> | undefined
    for (let d = 0; d < o.days; d++) {
      for (let v = 0; v < o.visitorsPerDay; v++) {
        const inArm = rand() < 0.5
        const a = inArm ? t : c
        a.visitors++
        if (rand() < o.controlRate + (inArm ? o.lift : 0)) (a.goals.get(goal) as { conversions: number }).conversions++
      }
      const r = compareGoal(goal, c, t, false)
      last = r
      if (r.cs95 !== null) {
        if (r.cs95[0] > 0 || r.cs95[1] < 0) csSig = true
        if (o.lift < r.cs95[0] || o.lift > r.cs95[1]) csMiss = true
      }
      if (r.ci95 !== null) {
        if (r.ci95[0] > 0 || r.ci95[1] < 0) fixedSig = true
        if (o.lift < r.ci95[0] || o.lift > r.ci95[1]) fixedMiss = true
      }
    }
    if (csSig) csEver++
    if (fixedSig) fixedEver++
    if (!csMiss) csCover++
    if (!fixedMiss) fixedCover++
    const cs = last?.cs95
    if (cs != null && o.lift !== 0 && (o.lift > 0 ? cs[0] > 0 : cs[1] < 0)) detected++
  }
  const n = o.experiments
  return {
    experiments: n,
    csEverSignificant: csEver / n,
    fixedEverSignificant: fixedEver / n,
    csCoveredEveryDay: csCover / n,
    fixedCoveredEveryDay: fixedCover / n,
    csDetectedAtEnd: detected / n,
  }
}

export interface CupedFigures {
  runs: number
  /** ρ²(x, y) of the generating model: the variance CUPED removes in theory. */
  theoryVarianceReduction: number
  /** 1 − √(1 − ρ²): how much narrower the interval gets in theory. */
  theoryNarrowing: number
  meanVarianceReduction: number
  meanNarrowing: number
}

/**
 * Visitors with a pre-exposure covariate x uniform on {0…4} (page views before exposure) and a
 * conversion probability 0.02 + 0.2·x, so x explains a known share of the outcome's variance:
 * ρ² = Cov(x,y)² / (Var x · Var y) with Cov = 0.2·Var x. Stored as the edge stores them (Σx, Σx²,
 * Σxy per arm) and compared through `compareGoal`.
 */
export function simulateCuped(runs: number, visitors: number, seed: number): CupedFigures {
  const rand = seededRng(seed)
  const slope = 0.2
  const varX = 2 // uniform on {0,…,4}
  const meanY = 0.02 + slope * 2
  const rho2 = (slope * varX) ** 2 / (varX * meanY * (1 - meanY))
  let vr = 0
  let narrowing = 0
  for (let r = 0; r < runs; r++) {
    const c = arm()
    const t = arm()
    for (let v = 0; v < visitors; v++) {
      const a = rand() < 0.5 ? t : c
      const x = Math.floor(rand() * 5)
      const y = rand() < 0.02 + slope * x ? 1 : 0
      a.visitors++
      a.sumX += x
      a.sumX2 += x * x
      const g = a.goals.get(goal) as { conversions: number; sumXY: number }
      g.conversions += y
      g.sumXY += x * y
    }
    const res = compareGoal(goal, c, t, false)
    const pc = (c.goals.get(goal)?.conversions ?? 0) / c.visitors
    const pt = (t.goals.get(goal)?.conversions ?? 0) / t.visitors
    const rawHalf = 1.959963984540054 * Math.sqrt((pc * (1 - pc)) / c.visitors + (pt * (1 - pt)) / t.visitors)
    if (res.cuped === null) continue
    vr += res.cuped.varianceReduction
    narrowing += 1 - (res.cuped.ci95[1] - res.cuped.ci95[0]) / 2 / rawHalf
  }
  return {
    runs,
    theoryVarianceReduction: rho2,
    theoryNarrowing: 1 - Math.sqrt(1 - rho2),
    meanVarianceReduction: vr / runs,
    meanNarrowing: narrowing / runs,
  }
}
