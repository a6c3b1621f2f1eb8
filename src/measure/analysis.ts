/**
 * The statistics of SPEC 12.1 on sufficient statistics (docs/measurement.md explains each
 * figure). Pure: the results endpoint, `npx veneer stats`, guardrails and the simulations all
 * call these, so every number has one definition.
 */
import { type CupedResult, cuped } from './cuped'
import { adjust, type Correction } from './multiple'
import { confidenceSequence, DEFAULT_TUNING, sequenceHalfwidth } from './sequential'
import { chiSquareGoodnessOfFit, enoughData, newcombeInterval, twoProportionZTest, welchTest, Z95 } from './stats'

/** Two-sided level of every interval and test. */
export const ALPHA = 0.05
/** The sample-ratio check flags a mismatch below this p-value. */
export const SRM_ALPHA = 0.001
/** Power the `power` figures are computed for. */
export const POWER = 0.8
/** z for 80% power: Φ⁻¹(0.8). */
const Z_POWER = 0.8416212335729143
/** The relative lift `visitorsNeeded` is computed for, unless the caller names another. */
export const DEFAULT_TARGET_LIFT = 0.1

/** Per-goal sums of one arm (cumulative). */
export interface GoalTotals {
  conversions: number
  sumValue: number
  sumValue2: number
  sumXY: number
  sumXV: number
}

/** Cumulative sums of one arm: visitors and the covariate, and per goal. */
export interface ArmTotals {
  visitors: number
  sumX: number
  sumX2: number
  goals: Map<string, GoalTotals>
}

export const emptyGoal = (): GoalTotals => ({ conversions: 0, sumValue: 0, sumValue2: 0, sumXY: 0, sumXV: 0 })
export const emptyArm = (): ArmTotals => ({ visitors: 0, sumX: 0, sumX2: 0, goals: new Map() })

/** One goal of one arm against control (SPEC 12.1 names). */
export interface GoalResult {
  goal: string
  visitors: number
  conversions: number
  /** conversions / visitors; null without visitors. */
  rate: number | null
  /** arm − control; null for control or without enough data. */
  lift: { abs: number; rel: number | null } | null
  /** Fixed-horizon 95% interval of the absolute lift (Newcombe hybrid score). */
  ci95: [number, number] | null
  /** Anytime-valid 95% confidence sequence of the absolute lift. */
  cs95: [number, number] | null
  /** Two-sided p-value of the pooled two-proportion z-test. */
  pValue: number | null
  /** pValue adjusted across goals × arms (Holm, or Benjamini–Hochberg). */
  pAdjusted: number | null
  /** CUPED-adjusted absolute lift with its 95% interval and the variance removed. */
  cuped: Pick<CupedResult, 'lift' | 'ci95' | 'varianceReduction'> | null
  /** Value goals (any value recorded): value per visitor, its lift and Welch 95% interval. */
  mean?: number | null
  meanLift?: number | null
  meanCi95?: [number, number] | null
  /** The goal is a guardrail of this experiment (SPEC 12.2). */
  guardrail?: boolean
  /** Why a figure is missing. */
  note?: string
}

export const NOT_ENOUGH_DATA = 'not enough data: each arm needs at least 5 expected conversions and 5 expected non-conversions'

/**
 * One goal of `arm` against `control`: rate, lift, ci95, cs95, p-value, CUPED and, for value
 * goals, the Welch comparison of value per visitor. `pAdjusted` is filled by the caller.
 */
export function compareGoal(
  goal: string,
  control: ArmTotals,
  arm: ArmTotals,
  isControl: boolean,
  tuning: number = DEFAULT_TUNING,
): GoalResult {
  const g = arm.goals.get(goal) ?? emptyGoal()
  const gc = control.goals.get(goal) ?? emptyGoal()
  const n = arm.visitors
  const nc = control.visitors
  const isValue = g.sumValue2 > 0 || gc.sumValue2 > 0
  const out: GoalResult = {
    goal,
    visitors: n,
    conversions: g.conversions,
    rate: n > 0 ? g.conversions / n : null,
    lift: null,
    ci95: null,
    cs95: null,
    pValue: null,
    pAdjusted: null,
    cuped: null,
  }
  if (isValue) out.mean = n > 0 ? g.sumValue / n : null
  if (isControl) return out
  if (n === 0 || nc === 0) {
    out.note = n === 0 ? 'no visitors in this arm yet' : 'no visitors in the control arm yet'
    return out
  }
  const x = g.conversions
  const xc = gc.conversions
  const p = x / n
  const pc = xc / nc
  if (isValue) {
    const w = welchTest(n, g.sumValue, g.sumValue2, nc, gc.sumValue, gc.sumValue2)
    out.meanLift = g.sumValue / n - gc.sumValue / nc
    out.meanCi95 = w === null ? null : w.ci95
  }
  if (x === 0 && xc === 0) {
    out.note = 'no conversions in either arm yet'
    return out
  }
  if (!enoughData(x, n, xc, nc)) {
    out.note = NOT_ENOUGH_DATA
    return out
  }
  const abs = p - pc
  out.lift = { abs, rel: pc > 0 ? abs / pc : null }
  out.ci95 = newcombeInterval(x, n, xc, nc)
  out.pValue = twoProportionZTest(x, n, xc, nc)?.pValue ?? null
  const se = Math.sqrt((p * (1 - p)) / n + (pc * (1 - pc)) / nc)
  out.cs95 = confidenceSequence(abs, se, n + nc, ALPHA, tuning)
  const c = cuped(
    { n: nc, sy: xc, syy: xc, sx: control.sumX, sxx: control.sumX2, sxy: gc.sumXY },
    { n, sy: x, syy: x, sx: arm.sumX, sxx: arm.sumX2, sxy: g.sumXY },
  )
  out.cuped = c === null ? null : { lift: c.lift, ci95: c.ci95, varianceReduction: c.varianceReduction }
  if (pc === 0) out.note = 'control has no conversions: relative lift is undefined'
  return out
}

export interface ArmResult {
  variant: string
  visitors: number
  /** Share of visitors the split configured, 0–1; null when unknown. */
  expectedShare: number | null
  goals: GoalResult[]
}

export interface SampleRatioCheck {
  chiSquare: number
  degreesOfFreedom: number
  pValue: number
  /** true when p < 0.001 (or visitors landed outside the configured split). */
  mismatch: boolean
  note?: string
}

/** Sample-ratio check of observed visitors against the configured shares (null when unfair). */
export function sampleRatio(arms: readonly ArmResult[]): SampleRatioCheck | null {
  const configured = arms.filter((a) => a.expectedShare !== null && a.expectedShare > 0)
  const outside = arms.filter((a) => (a.expectedShare === null || a.expectedShare === 0) && a.visitors > 0)
  const test = chiSquareGoodnessOfFit(
    configured.map((a) => a.visitors),
    configured.map((a) => a.expectedShare ?? 0),
  )
  if (test === null) return null
  const srm: SampleRatioCheck = { ...test, mismatch: test.pValue < SRM_ALPHA }
  if (outside.length > 0) {
    srm.mismatch = true
    srm.note = `visitors in variants outside the configured split: ${outside.map((a) => a.variant).join(', ')} (was the split changed?)`
  }
  return srm
}

export interface Power {
  /** Smallest absolute lift of the primary goal the confidence sequence detects with 80% power now. */
  mde: number | null
  /** More visitors (all arms) needed to detect a relative lift of `targetLift` with 80% power; 0 when reached. */
  visitorsNeeded: number | null
  targetLift: number
  goal: string | null
}

/** Detectable absolute effect with N visitors split evenly over `arms` arms, rate p (80% power, cs95). */
function detectable(p: number, total: number, arms: number, tuning: number): number | null {
  if (!(total > 0) || !(p > 0 && p < 1)) return null
  const perArm = total / arms
  const se = Math.sqrt((2 * p * (1 - p)) / perArm)
  const hw = sequenceHalfwidth(se, 2 * perArm, ALPHA, tuning)
  return hw === null ? null : hw + Z_POWER * se
}

/**
 * Power of the anytime-valid comparison on the primary goal: the effect detectable now and the
 * visitors still needed for `targetLift` (relative), with the control rate as the baseline.
 */
export function powerOf(
  goal: string | null,
  control: ArmTotals | undefined,
  total: number,
  arms: number,
  tuning: number = DEFAULT_TUNING,
  targetLift: number = DEFAULT_TARGET_LIFT,
): Power {
  const none: Power = { mde: null, visitorsNeeded: null, targetLift, goal }
  if (goal === null || control === undefined || control.visitors === 0 || arms < 2) return none
  const p = (control.goals.get(goal)?.conversions ?? 0) / control.visitors
  if (!(p > 0 && p < 1)) return none
  const mde = detectable(p, total, arms, tuning)
  const delta = targetLift * p
  let hi = Math.max(100, total)
  for (let i = 0; i < 60 && (detectable(p, hi, arms, tuning) ?? Infinity) > delta; i++) hi *= 2
  let lo = 0
  for (let i = 0; i < 60 && hi - lo > 1; i++) {
    const mid = (lo + hi) / 2
    if ((detectable(p, mid, arms, tuning) ?? Infinity) > delta) lo = mid
    else hi = mid
  }
  return { mde, visitorsNeeded: Math.max(0, Math.ceil(hi - total)), targetLift, goal }
}

export type Verdict = 'ship' | 'stop' | 'keep-running' | 'inconclusive'

export interface Decision {
  decision: Verdict
  reason: string
}

const pts = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(2)} points`
const range = (ci: [number, number]) => `${pts(ci[0])} to ${pts(ci[1])}`

/** The guardrail breaches: arms whose cs95 on a guardrail goal lies wholly below zero. */
export function guardrailBreaches(
  arms: readonly ArmResult[],
  control: string,
): { arm: string; goal: string; cs95: [number, number] }[] {
  const out: { arm: string; goal: string; cs95: [number, number] }[] = []
  for (const a of arms) {
    if (a.variant === control) continue
    for (const g of a.goals)
      if (g.guardrail === true && g.cs95 !== null && g.cs95[1] < 0) out.push({ arm: a.variant, goal: g.goal, cs95: g.cs95 })
  }
  return out
}

/** `decision` and its one-line reason (docs/measurement.md "Decision"), in words for a product manager. */
export function decide(
  arms: readonly ArmResult[],
  control: string,
  primary: string | null,
  srm: SampleRatioCheck | null,
  power: Power,
): Decision {
  const total = arms.reduce((s, a) => s + a.visitors, 0)
  if (total === 0) return { decision: 'keep-running', reason: 'No visitors have been counted yet.' }
  if (srm?.mismatch === true)
    return {
      decision: 'inconclusive',
      reason:
        'The arms did not get the share of visitors they were configured for, so the comparison cannot be trusted; check the assignment before reading any lift.',
    }
  const breach = guardrailBreaches(arms, control)[0]
  if (breach !== undefined)
    return {
      decision: 'stop',
      reason: `"${breach.arm}" lowers the guardrail "${breach.goal}" (${range(breach.cs95)}); stop it.`,
    }
  if (primary === null) return { decision: 'keep-running', reason: 'No goal is defined, so there is nothing to decide on yet.' }
  const results = arms
    .filter((a) => a.variant !== control)
    .map((a) => ({ arm: a.variant, g: a.goals.find((x) => x.goal === primary) }))
  const winners = results
    .filter((r) => r.g?.cs95 != null && r.g.cs95[0] > 0 && (r.g.pAdjusted ?? 1) < ALPHA)
    .sort((a, b) => (b.g?.lift?.abs ?? 0) - (a.g?.lift?.abs ?? 0))
  const best = winners[0]
  if (best?.g?.cs95 != null && best.g.lift !== null)
    return {
      decision: 'ship',
      reason: `"${best.arm}" raises "${primary}" by ${pts(best.g.lift.abs)} (95% range ${range(best.g.cs95)}); this holds however often the results were read.`,
    }
  if (results.length > 0 && results.every((r) => r.g?.cs95 != null && r.g.cs95[1] < 0))
    return { decision: 'stop', reason: `Every variant lowers "${primary}"; keep the control.` }
  if (power.visitorsNeeded === 0)
    return {
      decision: 'inconclusive',
      reason: `Enough visitors to see a ${Math.round(power.targetLift * 100)}% change in "${primary}", and none showed: the variants make no difference that large.`,
    }
  const more =
    power.visitorsNeeded === null ? 'more visitors' : `about ${power.visitorsNeeded.toLocaleString('en-US')} more visitors`
  return {
    decision: 'keep-running',
    reason: `No clear difference in "${primary}" yet; keep it running (${more} to detect a ${Math.round(power.targetLift * 100)}% change).`,
  }
}

export interface AnalysisInput {
  control: string
  /** Arms in display order (control first is conventional). */
  order: readonly string[]
  totals: ReadonlyMap<string, ArmTotals>
  goals: readonly string[]
  /** Configured weights by arm; arms without one have no expected share. */
  weights?: ReadonlyMap<string, number>
  guardrails?: readonly string[]
  correction?: Correction
  tuning?: number
  targetLift?: number
}

export interface Analysis {
  arms: ArmResult[]
  srm: SampleRatioCheck | null
  power: Power
  primary: string | null
  decision: Verdict
  reason: string
  correction: Correction
}

/** Every figure of SPEC 12.1 for one experiment from its cumulative totals. */
export function analyze(input: AnalysisInput): Analysis {
  const correction = input.correction ?? 'holm'
  const tuning = input.tuning ?? DEFAULT_TUNING
  const guardrails = new Set(input.guardrails ?? [])
  const weights = input.weights ?? new Map<string, number>()
  const totalWeight = [...weights.values()].reduce((a, b) => a + b, 0)
  const control = input.totals.get(input.control) ?? emptyArm()
  const arms: ArmResult[] = input.order.map((variant) => {
    const t = input.totals.get(variant) ?? emptyArm()
    const w = weights.get(variant)
    return {
      variant,
      visitors: t.visitors,
      expectedShare: w === undefined || !(totalWeight > 0) ? null : w / totalWeight,
      goals: input.goals.map((goal) => {
        const r = compareGoal(goal, control, t, variant === input.control, tuning)
        if (guardrails.has(goal)) r.guardrail = true
        return r
      }),
    }
  })
  const all = arms.flatMap((a) => (a.variant === input.control ? [] : a.goals))
  const adjusted = adjust(
    all.map((g) => g.pValue),
    correction,
  )
  all.forEach((g, i) => {
    g.pAdjusted = adjusted[i] ?? null
  })
  const srm = weights.size > 0 ? sampleRatio(arms) : null
  const primary = input.goals.find((g) => !guardrails.has(g)) ?? input.goals[0] ?? null
  const total = arms.reduce((s, a) => s + a.visitors, 0)
  const power = powerOf(primary, input.totals.get(input.control), total, Math.max(arms.length, 2), tuning, input.targetLift)
  const d = decide(arms, input.control, primary, srm, power)
  return { arms, srm, power, primary, decision: d.decision, reason: d.reason, correction }
}

/** z for the fixed 95% interval, re-exported for callers that print it. */
export { Z95 }
