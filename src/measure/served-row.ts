import { type AggregateKind, addCount, isCount, isDayKey } from './aggregate'
import type { ServedSource } from './types'

/** One increment of the `served` counters (migration 0001): servings per day, placement, variant, reason. */
export interface ServedRow {
  day: string
  placement: string
  variant: string
  source: ServedSource
  count: number
}

const SOURCES: ReadonlySet<string> = new Set<ServedSource>(['rule', 'default', 'experiment', 'experiment-skipped', 'holdout'])
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200
const isSource = (v: unknown): v is ServedSource => typeof v === 'string' && SOURCES.has(v)

const UPSERT = `INSERT INTO served (day, placement, variant, source, count) VALUES (?1, ?2, ?3, ?4, ?5)
  ON CONFLICT (day, placement, variant, source) DO UPDATE SET count = count + excluded.count`

/** The `served` kind: how often each variant was served, aggregated like every other count. */
export const servedKind: AggregateKind<ServedRow> = {
  kind: 'served',
  key: (r) => JSON.stringify([r.day, r.placement, r.variant, r.source]),
  merge: addCount,
  parse(v) {
    if (typeof v !== 'object' || v === null) return undefined
    const o = v as Record<string, unknown>
    if (!isDayKey(o.day)) return undefined
    if (!isName(o.placement) || !isName(o.variant) || !isSource(o.source)) return undefined
    if (!isCount(o.count)) return undefined
    return { day: o.day, placement: o.placement, variant: o.variant, source: o.source, count: o.count }
  },
  upsert: (db, r) => db.prepare(UPSERT).bind(r.day, r.placement, r.variant, r.source, r.count),
}
