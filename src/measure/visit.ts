import type { Decision } from '../decide/types'
import type { CompiledRuleset } from '../rules/compile'
import { HOLDOUT_VARIANT, PERSONALIZED_VARIANT } from './events'
import { type ExposureMemo, MAX_MEMO_GOALS, MAX_MEMO_SEGMENTS, MAX_MEMOS } from './memory'
import { ALL_SEGMENT, EXPOSURE_GOAL, type StatsRow, statsRow } from './stats-row'
import { utcDay } from './store'
import { HOLDOUT_EXPERIMENT } from './types'

/** The covariate is capped so one heavy visitor cannot dominate Σx². */
export const MAX_COVARIATE = 1000

/** What the edge knows about a visitor before this page view (from `veneer_visitor`). */
export interface VisitorMeasure {
  /** Page views before this one. */
  pageViews: number
  /** The measurement memory; updated in place (it is written back to the cookie). */
  memos: ExposureMemo[]
}

/** The pre-exposure covariate x: page views before exposure (capped). */
export function covariateOf(v: VisitorMeasure): number {
  return Math.min(MAX_COVARIATE, Math.max(0, Math.floor(v.pageViews)))
}

function rowsFor(memo: ExposureMemo, day: string, goal: string, fill: (r: StatsRow) => void): StatsRow[] {
  return [ALL_SEGMENT, ...memo.segments].map((segment) => {
    const r = statsRow(day, memo.experiment, memo.arm, goal, segment)
    fill(r)
    return r
  })
}

/** Remembers a new exposure (forgetting the oldest beyond the bound) and returns its rows. */
function expose(v: VisitorMeasure, experiment: string, arm: string, segments: readonly string[], day: string): StatsRow[] {
  const x = covariateOf(v)
  const memo: ExposureMemo = { experiment, arm, x, segments: segments.slice(0, MAX_MEMO_SEGMENTS), goals: [] }
  v.memos.push(memo)
  if (v.memos.length > MAX_MEMOS) v.memos.splice(0, v.memos.length - MAX_MEMOS)
  return rowsFor(memo, day, EXPOSURE_GOAL, (r) => {
    r.visitors = 1
    r.sumX = x
    r.sumX2 = x * x
  })
}

/**
 * The exposures of one page view (pure apart from `v.memos`): every experiment that decided a
 * placement and is not yet in the visitor's memory, and the holdout group on pages with
 * placements when a holdout is configured. QA decisions never reach here.
 */
export function exposuresOf(ruleset: CompiledRuleset, decision: Decision, v: VisitorMeasure, at: number): StatsRow[] {
  const day = utcDay(at)
  const rows: StatsRow[] = []
  const known = new Set(v.memos.map((m) => m.experiment))
  for (const p of decision.placements) {
    if (p.reason.kind !== 'experiment' || known.has(p.reason.experiment)) continue
    known.add(p.reason.experiment)
    rows.push(...expose(v, p.reason.experiment, p.variant, decision.segments, day))
  }
  if (
    decision.placements.length > 0 &&
    (decision.holdout || ruleset.settings.holdoutPercent > 0) &&
    !known.has(HOLDOUT_EXPERIMENT)
  ) {
    const arm = decision.holdout ? HOLDOUT_VARIANT : PERSONALIZED_VARIANT
    rows.push(...expose(v, HOLDOUT_EXPERIMENT, arm, decision.segments, day))
  }
  return rows
}

/**
 * The conversion rows of goals reached now, for every experiment the visitor was counted in:
 * the first time per goal and experiment a conversion (y = 1), and each time the value total
 * grows, its exact change in Σvalue and Σvalue² (from T to T+v: +v and +2Tv+v²).
 */
export function conversionsOf(v: VisitorMeasure, goals: readonly string[], value: number | undefined, at: number): StatsRow[] {
  if (goals.length === 0 || v.memos.length === 0) return []
  const day = utcDay(at)
  const add = typeof value === 'number' && Number.isFinite(value) ? value : 0
  const rows: StatsRow[] = []
  for (const memo of v.memos) {
    for (const goal of goals) {
      const entry = memo.goals.find((g) => g[0] === goal)
      if (entry === undefined) {
        if (memo.goals.length >= MAX_MEMO_GOALS) continue
        memo.goals.push([goal, add])
        rows.push(
          ...rowsFor(memo, day, goal, (r) => {
            r.conversions = 1
            r.sumXY = memo.x
            r.sumValue = add
            r.sumValue2 = add * add
            r.sumXV = memo.x * add
          }),
        )
      } else if (add !== 0) {
        const before = entry[1]
        entry[1] = before + add
        rows.push(
          ...rowsFor(memo, day, goal, (r) => {
            r.sumValue = add
            r.sumValue2 = 2 * before * add + add * add
            r.sumXV = memo.x * add
          }),
        )
      }
    }
  }
  return rows
}
