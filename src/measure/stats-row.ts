import { type AggregateKind, isDayKey } from './aggregate'
import { checkTouched } from './guardrails'

/** The exposure row's goal (docs/measurement.md "Storage"): visitors and Σx, Σx² live here. */
export const EXPOSURE_GOAL = ''
/** The segment of rows about all visitors. */
export const ALL_SEGMENT = '*'

/**
 * One `stats_daily` row's increments (migration 0002): per UTC day, experiment, arm, goal
 * (`''` = exposures) and segment (`'*'` = all visitors).
 */
export interface StatsRow {
  day: string
  experiment: string
  arm: string
  goal: string
  segment: string
  visitors: number
  conversions: number
  sumValue: number
  sumValue2: number
  sumX: number
  sumX2: number
  sumXY: number
  sumXV: number
}

const SUMS = ['visitors', 'conversions', 'sumValue', 'sumValue2', 'sumX', 'sumX2', 'sumXY', 'sumXV'] as const

/** A row of zeros for these keys. */
export function statsRow(day: string, experiment: string, arm: string, goal: string, segment: string): StatsRow {
  return {
    day,
    experiment,
    arm,
    goal,
    segment,
    visitors: 0,
    conversions: 0,
    sumValue: 0,
    sumValue2: 0,
    sumX: 0,
    sumX2: 0,
    sumXY: 0,
    sumXV: 0,
  }
}

const isName = (v: unknown, allowEmpty = false): v is string =>
  typeof v === 'string' && v.length <= 200 && (allowEmpty || v.length > 0)
const isSum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 1e15

const UPSERT = `INSERT INTO stats_daily (day, experiment, arm, goal, segment, visitors, conversions, sum_value, sum_value2, sum_x, sum_x2, sum_xy, sum_xv)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
  ON CONFLICT (experiment, segment, goal, arm, day) DO UPDATE SET
    visitors = visitors + excluded.visitors, conversions = conversions + excluded.conversions,
    sum_value = sum_value + excluded.sum_value, sum_value2 = sum_value2 + excluded.sum_value2,
    sum_x = sum_x + excluded.sum_x, sum_x2 = sum_x2 + excluded.sum_x2,
    sum_xy = sum_xy + excluded.sum_xy, sum_xv = sum_xv + excluded.sum_xv`

/** The `stats` kind: per-day sufficient statistics of experiments (SPEC 12). */
export const statsKind: AggregateKind<StatsRow> = {
  kind: 'stats',
  key: (r) => JSON.stringify([r.day, r.experiment, r.arm, r.goal, r.segment]),
  merge(into, r) {
    if (into === undefined) return { ...r }
    for (const k of SUMS) into[k] += r[k]
    return into
  },
  parse(v) {
    if (typeof v !== 'object' || v === null) return undefined
    const o = v as Record<string, unknown>
    if (!isDayKey(o.day)) return undefined
    if (!isName(o.experiment) || !isName(o.arm) || !isName(o.goal, true) || !isName(o.segment)) return undefined
    const row = statsRow(o.day, o.experiment, o.arm, o.goal, o.segment)
    for (const k of SUMS) {
      const n = o[k] ?? 0
      if (!isSum(n)) return undefined
      row[k] = n
    }
    return row
  },
  // Guardrails are checked where new evidence arrives (src/measure/guardrails.ts).
  afterStore: (env, rows) => checkTouched(env, new Set(rows.map((r) => r.experiment))),
  upsert: (db, r) =>
    db
      .prepare(UPSERT)
      .bind(
        r.day,
        r.experiment,
        r.arm,
        r.goal,
        r.segment,
        r.visitors,
        r.conversions,
        r.sumValue,
        r.sumValue2,
        r.sumX,
        r.sumX2,
        r.sumXY,
        r.sumXV,
      ),
}
