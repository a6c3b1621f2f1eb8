import { CONTROL, type CompiledRuleset } from '../rules/compile'
import { HOLDOUT_VARIANT, PERSONALIZED_VARIANT } from './events'
import { chiSquareGoodnessOfFit, enoughData, MIN_EXPECTED, newcombeInterval, twoProportionZTest } from './stats'
import { HOLDOUT_EXPERIMENT, type ArmResult, type ExperimentResults, type GoalComparison, type SampleRatioCheck } from './types'

/** Significance level of the per-goal tests (two-sided). */
export const ALPHA = 0.05
/** The sample-ratio check flags a mismatch below this p-value. */
export const SRM_ALPHA = 0.001

export const NOT_ENOUGH_DATA = `not enough data: each arm needs at least ${MIN_EXPECTED} expected conversions and ${MIN_EXPECTED} expected non-conversions`

/** What the ruleset says about an experiment: where it runs, its split and its baseline. */
export interface ExperimentConfig {
  placement: string | null
  /** Variant id → weight, in document order. */
  split: [string, number][]
  control: string
}

/** The experiment's configuration in the active ruleset, or undefined when it is not there. */
export function experimentConfig(ruleset: CompiledRuleset | undefined, experimentId: string): ExperimentConfig | undefined {
  if (ruleset === undefined) return undefined
  if (experimentId === HOLDOUT_EXPERIMENT) {
    const h = ruleset.settings.holdoutPercent
    if (!(h > 0)) return undefined
    return {
      placement: null,
      split: [
        [HOLDOUT_VARIANT, h],
        [PERSONALIZED_VARIANT, 100 - h],
      ],
      control: HOLDOUT_VARIANT,
    }
  }
  for (const pl of ruleset.doc.placements) {
    for (const rule of pl.rules) {
      const e = rule.experiment
      if (e === undefined || e.id !== experimentId) continue
      const split = Object.entries(e.split)
      const control = split.some(([v]) => v === CONTROL) ? CONTROL : (split[0]?.[0] ?? CONTROL)
      return { placement: pl.id, split, control }
    }
  }
  return undefined
}

/** The raw counts results are computed from (one D1 round trip, see `readCounts`). */
export interface ExperimentCounts {
  /** Distinct exposed visitors per variant. */
  visitors: Map<string, number>
  /** Conversions per variant and goal. */
  conversions: Map<string, Map<string, number>>
  exposuresByDay: { day: string; variant: string; visitors: number }[]
  /** The placement recorded with the exposures, when the ruleset no longer names one. */
  placement: string | null
}

/** Reads an experiment's counts (all visitors) from the daily statistics in one D1 batch. */
export async function readCounts(db: D1Database, experimentId: string): Promise<ExperimentCounts> {
  const [arms, conversions, days] = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        "SELECT arm, SUM(visitors) AS n FROM stats_daily WHERE experiment = ?1 AND segment = '*' AND goal = '' GROUP BY arm",
      )
      .bind(experimentId),
    db
      .prepare(
        "SELECT arm, goal, SUM(conversions) AS n FROM stats_daily WHERE experiment = ?1 AND segment = '*' AND goal <> '' GROUP BY arm, goal",
      )
      .bind(experimentId),
    db
      .prepare(
        "SELECT day, arm, SUM(visitors) AS n FROM stats_daily WHERE experiment = ?1 AND segment = '*' AND goal = '' GROUP BY day, arm ORDER BY day, arm",
      )
      .bind(experimentId),
  ])
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  const counts: ExperimentCounts = { visitors: new Map(), conversions: new Map(), exposuresByDay: [], placement: null }
  for (const r of arms?.results ?? []) counts.visitors.set(str(r.arm), num(r.n))
  for (const r of conversions?.results ?? []) {
    const byGoal = counts.conversions.get(str(r.arm)) ?? new Map<string, number>()
    byGoal.set(str(r.goal), num(r.n))
    counts.conversions.set(str(r.arm), byGoal)
  }
  for (const r of days?.results ?? []) counts.exposuresByDay.push({ day: str(r.day), variant: str(r.arm), visitors: num(r.n) })
  return counts
}

/** One goal of one arm against the control arm. */
export function compareGoal(goal: string, x: number, n: number, xc: number, nc: number, isControl: boolean): GoalComparison {
  const rate = n > 0 ? x / n : null
  const base: GoalComparison = {
    goal,
    conversions: x,
    rate,
    absoluteLift: null,
    relativeLift: null,
    ci95: null,
    pValue: null,
    significant: false,
  }
  if (isControl) return base
  if (n === 0 || nc === 0)
    return { ...base, note: n === 0 ? 'no visitors in this arm yet' : 'no visitors in the control arm yet' }
  if (x === 0 && xc === 0) return { ...base, note: 'no conversions in either arm yet' }
  if (!enoughData(x, n, xc, nc)) return { ...base, note: NOT_ENOUGH_DATA }
  const test = twoProportionZTest(x, n, xc, nc)
  const ci = newcombeInterval(x, n, xc, nc)
  if (test === null || ci === null) return { ...base, note: NOT_ENOUGH_DATA }
  const controlRate = xc / nc
  const absoluteLift = x / n - controlRate
  const out: GoalComparison = {
    ...base,
    absoluteLift,
    relativeLift: controlRate > 0 ? absoluteLift / controlRate : null,
    ci95: ci,
    pValue: test.pValue,
    significant: test.pValue < ALPHA,
  }
  if (controlRate === 0) out.note = 'control has no conversions: relative lift is undefined'
  return out
}

/** Sample-ratio check of the observed arms against the configured split (null when unfair). */
export function sampleRatio(arms: readonly ArmResult[], notes: string[]): SampleRatioCheck | null {
  const configured = arms.filter((a) => a.expectedShare !== null && a.expectedShare > 0)
  const outside = arms.filter((a) => (a.expectedShare === null || a.expectedShare === 0) && a.visitors > 0)
  const test = chiSquareGoodnessOfFit(
    configured.map((a) => a.visitors),
    configured.map((a) => a.expectedShare ?? 0),
  )
  if (test === null) {
    if (configured.length >= 2) notes.push('not enough data for the sample-ratio check (needs 5 expected visitors per arm)')
    return null
  }
  const srm: SampleRatioCheck = { ...test, mismatch: test.pValue < SRM_ALPHA }
  if (outside.length > 0) {
    srm.mismatch = true
    srm.note = `visitors in variants outside the configured split: ${outside.map((a) => a.variant).join(', ')} (was the split changed?)`
  }
  if (srm.mismatch)
    notes.push(
      'sample-ratio mismatch: the observed split differs from the configured one, so the comparison may be biased; check assignment and recording before trusting lifts',
    )
  return srm
}

/**
 * Results of one experiment (SPEC 7 `GET api/results/:experimentId`): per arm the exposed
 * visitors and per goal conversions, rate, lift over control with a 95% Newcombe interval and
 * the pooled two-proportion z-test; a sample-ratio check. Undefined when neither the ruleset nor
 * the store knows the experiment.
 */
export function buildResults(
  experimentId: string,
  config: ExperimentConfig | undefined,
  counts: ExperimentCounts,
  goalIds: readonly string[],
): ExperimentResults | undefined {
  if (config === undefined && counts.visitors.size === 0) return undefined
  const notes: string[] = []
  if (config === undefined)
    notes.push('this experiment is not in the active ruleset: its configured split is unknown, so there is no sample-ratio check')
  const weights = new Map(config?.split ?? [])
  const totalWeight = [...weights.values()].reduce((a, b) => a + b, 0)
  const seen = [...counts.visitors.keys()].sort()
  const control = config?.control ?? (seen.includes(CONTROL) ? CONTROL : (seen[0] ?? CONTROL))
  const variants = [...new Set([control, ...weights.keys(), ...seen])]
  const goals = [...new Set([...goalIds, ...[...counts.conversions.values()].flatMap((m) => [...m.keys()]).sort()])]
  if (goals.length === 0) notes.push('the ruleset defines no goals: only exposures are shown')

  const nc = counts.visitors.get(control) ?? 0
  const arms: ArmResult[] = variants.map((variant) => {
    const n = counts.visitors.get(variant) ?? 0
    const w = weights.get(variant)
    return {
      variant,
      visitors: n,
      expectedShare: w === undefined || !(totalWeight > 0) ? null : w / totalWeight,
      goals: goals.map((goal) => {
        const x = counts.conversions.get(variant)?.get(goal) ?? 0
        const xc = counts.conversions.get(control)?.get(goal) ?? 0
        return compareGoal(goal, x, n, xc, nc, variant === control)
      }),
    }
  })
  const total = arms.reduce((a, b) => a + b.visitors, 0)
  if (total === 0) notes.push('no exposures recorded yet')
  const srm = config === undefined ? null : sampleRatio(arms, notes)
  if (goals.length > 1 && arms.length > 1)
    notes.push(`${goals.length} goals are tested, each at 5%: expect some false positives across goals`)
  return {
    experiment: experimentId,
    placement: config === undefined ? counts.placement : config.placement,
    control,
    arms,
    srm,
    exposuresByDay: counts.exposuresByDay,
    notes,
  }
}

/** Reads and computes an experiment's results; undefined when the experiment is unknown. */
export async function experimentResults(
  db: D1Database,
  ruleset: CompiledRuleset | undefined,
  experimentId: string,
): Promise<ExperimentResults | undefined> {
  const counts = await readCounts(db, experimentId)
  return buildResults(experimentId, experimentConfig(ruleset, experimentId), counts, ruleset?.goals.map((g) => g.id) ?? [])
}
