import type { AggregateKind } from '../measure/aggregate'

/** One `bandit_counts` row's increments (migration 0005). `goal` '' is the exposure row. */
export interface BanditRow {
  experiment: string
  /** Start of the exposure bucket, ms since the epoch (a multiple of `every` minutes). */
  bucket: number
  arm: string
  goal: string
  visitors: number
  conversions: number
}

const isName = (v: unknown, allowEmpty = false): v is string =>
  typeof v === 'string' && v.length <= 200 && (allowEmpty || v.length > 0)
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1e12

const UPSERT = `INSERT INTO bandit_counts (experiment, bucket, arm, goal, visitors, conversions) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
  ON CONFLICT (experiment, goal, arm, bucket) DO UPDATE SET
    visitors = visitors + excluded.visitors, conversions = conversions + excluded.conversions`

/** The `bandit` aggregate kind (src/measure/aggregate.ts): cohort counts of bandit experiments. */
export const banditKind: AggregateKind<BanditRow> = {
  kind: 'bandit',
  key: (r) => JSON.stringify([r.experiment, r.bucket, r.arm, r.goal]),
  merge(into, r) {
    if (into === undefined) return { ...r }
    into.visitors += r.visitors
    into.conversions += r.conversions
    return into
  },
  parse(v) {
    if (typeof v !== 'object' || v === null) return undefined
    const o = v as Record<string, unknown>
    if (!isName(o.experiment) || !isName(o.arm) || !isName(o.goal, true)) return undefined
    if (!isCount(o.bucket) || !isCount(o.visitors) || !isCount(o.conversions)) return undefined
    return {
      experiment: o.experiment,
      bucket: o.bucket,
      arm: o.arm,
      goal: o.goal,
      visitors: o.visitors,
      conversions: o.conversions,
    }
  },
  upsert: (db, r) => db.prepare(UPSERT).bind(r.experiment, r.bucket, r.arm, r.goal, r.visitors, r.conversions),
}
