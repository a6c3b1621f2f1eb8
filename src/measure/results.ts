import { banditConfigs } from '../bandit/config'
import { cohortSource } from '../bandit/counts'
import { seededRng } from '../util/random'
import { banditResults, withBandit } from '../bandit/results'
import { CONTROL, type CompiledRuleset } from '../rules/compile'
import { analyze, type ArmTotals, compareGoal, emptyArm, emptyGoal, type GoalTotals } from './analysis'
import { HOLDOUT_VARIANT, PERSONALIZED_VARIANT } from './events'
import type { Correction } from './multiple'
import { DEFAULT_TUNING } from './sequential'
import { ALL_SEGMENT, EXPOSURE_GOAL } from './stats-row'
import { type ExperimentResults, HOLDOUT_EXPERIMENT, type HistoryPoint } from './types'

/** What the ruleset says about an experiment: where it runs, its split, baseline and guardrails. */
export interface ExperimentConfig {
  placement: string | null
  /** Variant id → weight, in document order. */
  split: [string, number][]
  control: string
  guardrails: string[]
  stopped?: { at: string; reason: string }
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
      guardrails: [],
    }
  }
  for (const pl of ruleset.doc.placements) {
    for (const rule of pl.rules) {
      const e = rule.experiment
      if (e === undefined || e.id !== experimentId) continue
      const split = Object.entries(e.split)
      const control = split.some(([v]) => v === CONTROL) ? CONTROL : (split[0]?.[0] ?? CONTROL)
      const out: ExperimentConfig = { placement: pl.id, split, control, guardrails: e.guardrails ?? [] }
      if (e.stopped !== undefined) out.stopped = e.stopped
      return out
    }
  }
  return undefined
}

/** One `stats_daily` row as read back. */
export interface DailyRow {
  day: string
  arm: string
  goal: string
  visitors: number
  conversions: number
  sumValue: number
  sumValue2: number
  sumX: number
  sumX2: number
  sumXY: number
  sumXV: number
}

/** Reads an experiment's daily rows for one segment ('*' = all visitors), in day order. */
export async function readDaily(db: D1Database, experimentId: string, segment: string = ALL_SEGMENT): Promise<DailyRow[]> {
  const { results } = await db
    .prepare(
      `SELECT day, arm, goal, visitors, conversions, sum_value, sum_value2, sum_x, sum_x2, sum_xy, sum_xv
       FROM stats_daily WHERE experiment = ?1 AND segment = ?2 ORDER BY day, arm, goal`,
    )
    .bind(experimentId, segment)
    .all<Record<string, unknown>>()
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  return results.map((r) => ({
    day: str(r.day),
    arm: str(r.arm),
    goal: str(r.goal),
    visitors: num(r.visitors),
    conversions: num(r.conversions),
    sumValue: num(r.sum_value),
    sumValue2: num(r.sum_value2),
    sumX: num(r.sum_x),
    sumX2: num(r.sum_x2),
    sumXY: num(r.sum_xy),
    sumXV: num(r.sum_xv),
  }))
}

/** Adds one daily row into cumulative arm totals. */
export function addRow(totals: Map<string, ArmTotals>, r: DailyRow): void {
  const arm = totals.get(r.arm) ?? emptyArm()
  totals.set(r.arm, arm)
  if (r.goal === EXPOSURE_GOAL) {
    arm.visitors += r.visitors
    arm.sumX += r.sumX
    arm.sumX2 += r.sumX2
    return
  }
  const g: GoalTotals = arm.goals.get(r.goal) ?? emptyGoal()
  arm.goals.set(r.goal, g)
  g.conversions += r.conversions
  g.sumValue += r.sumValue
  g.sumValue2 += r.sumValue2
  g.sumXY += r.sumXY
  g.sumXV += r.sumXV
}

export interface ResultsOptions {
  correction?: Correction
  tuning?: number
  segment?: string
}

/**
 * Results of one experiment (SPEC 12.1) from its daily rows: per goal and arm every figure of
 * `analyze`, the confidence sequence of the primary goal day by day, and the decision.
 * Undefined when neither the ruleset nor the store knows the experiment.
 */
export function buildResults(
  experimentId: string,
  config: ExperimentConfig | undefined,
  daily: readonly DailyRow[],
  goalIds: readonly string[],
  options: ResultsOptions = {},
): ExperimentResults | undefined {
  if (config === undefined && daily.length === 0) return undefined
  const tuning = options.tuning ?? DEFAULT_TUNING
  const notes: string[] = []
  if (config === undefined)
    notes.push('this experiment is not in the active ruleset: its configured split is unknown, so there is no sample-ratio check')
  const seenArms = [...new Set(daily.map((r) => r.arm))].sort()
  const weights = new Map(config?.split ?? [])
  const control = config?.control ?? (seenArms.includes(CONTROL) ? CONTROL : (seenArms[0] ?? CONTROL))
  const order = [...new Set([control, ...weights.keys(), ...seenArms])]
  const goals = [
    ...new Set([
      ...goalIds,
      ...daily
        .filter((r) => r.goal !== EXPOSURE_GOAL)
        .map((r) => r.goal)
        .sort(),
    ]),
  ]
  if (goals.length === 0) notes.push('the ruleset defines no goals: only exposures are shown')

  // Cumulative totals, and the primary goal's figures at the end of each day.
  const totals = new Map<string, ArmTotals>()
  const history: HistoryPoint[] = []
  const guardrails = config?.guardrails ?? []
  const primary = goals.find((g) => !guardrails.includes(g)) ?? goals[0] ?? null
  const exposuresByDay: ExperimentResults['exposuresByDay'] = []
  for (let i = 0; i < daily.length; i++) {
    const r = daily[i] as DailyRow
    addRow(totals, r)
    if (r.goal === EXPOSURE_GOAL && r.visitors > 0) exposuresByDay.push({ day: r.day, variant: r.arm, visitors: r.visitors })
    const next = daily[i + 1]
    if (next !== undefined && next.day === r.day) continue
    if (primary === null) continue
    const c = totals.get(control) ?? emptyArm()
    for (const arm of order) {
      if (arm === control) continue
      const t = totals.get(arm) ?? emptyArm()
      const g = compareGoal(primary, c, t, false, tuning)
      history.push({ day: r.day, arm, visitors: t.visitors, lift: g.lift?.abs ?? null, ci95: g.ci95, cs95: g.cs95 })
    }
  }

  const a = analyze({
    control,
    order,
    totals,
    goals,
    weights,
    guardrails,
    correction: options.correction,
    tuning,
  })
  if (a.arms.reduce((s, x) => s + x.visitors, 0) === 0) notes.push('no exposures recorded yet')
  if (a.srm?.mismatch === true)
    notes.push(
      'sample-ratio mismatch: the observed split differs from the configured one, so the comparison may be biased; check assignment and recording before trusting lifts',
    )
  const out: ExperimentResults = {
    experiment: experimentId,
    placement: config?.placement ?? null,
    control,
    segment: options.segment ?? '*',
    arms: a.arms,
    srm: a.srm,
    power: a.power,
    primaryGoal: a.primary,
    correction: a.correction,
    decision: a.decision,
    reason: a.reason,
    history,
    exposuresByDay,
    tuning,
    notes,
  }
  if (config?.stopped !== undefined) {
    out.stopped = config.stopped
    out.decision = 'stop'
    out.reason = `Stopped ${config.stopped.at.slice(0, 10)}: ${config.stopped.reason} Every visitor now sees the control; roll back the ruleset to resume.`
  }
  return out
}

/** Reads and computes an experiment's results; undefined when the experiment is unknown. */
export async function experimentResults(
  db: D1Database,
  ruleset: CompiledRuleset | undefined,
  experimentId: string,
  options: ResultsOptions = {},
): Promise<ExperimentResults | undefined> {
  const daily = await readDaily(db, experimentId, options.segment)
  const bandit = ruleset === undefined ? undefined : banditConfigs(ruleset).find((b) => b.experiment === experimentId)
  const config = experimentConfig(ruleset, experimentId)
  const results = buildResults(
    experimentId,
    // A bandit's pooled split is checked per period against its weights (withBandit), not here.
    bandit === undefined || config === undefined ? config : { ...config, split: [] },
    daily,
    ruleset?.goals.map((g) => g.id) ?? [],
    options,
  )
  if (results === undefined || bandit === undefined || (options.segment ?? ALL_SEGMENT) !== ALL_SEGMENT) return results
  const now = Date.now()
  return withBandit(results, await banditResults(db, bandit, cohortSource(db), now, seededRng(now)))
}
