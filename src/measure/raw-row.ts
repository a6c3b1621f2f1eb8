import type { AggregateKind } from './aggregate'

/**
 * A raw per-visitor row, kept only with `settings.measurement.rawEvents` (for audits; retention
 * deletes it after `settings.retentionDays`). `visitor` is the keyed hash, never the raw id.
 */
export type RawRow =
  | { table: 'exposures'; visitor: string; experiment: string; arm: string; placement: string; at: number }
  | { table: 'conversions'; visitor: string; experiment: string; arm: string; goal: string; at: number; value: number | null }

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0

const INSERT_EXPOSURE =
  'INSERT OR IGNORE INTO exposures (visitor, experiment, variant, placement, exposed_at) VALUES (?1, ?2, ?3, ?4, ?5)'
const INSERT_CONVERSION =
  'INSERT OR IGNORE INTO conversions (visitor, experiment, variant, goal, converted_at, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)'

/** The `raw` kind: rows are never merged (each key is the whole row), inserted once. */
export const rawKind: AggregateKind<RawRow> = {
  kind: 'raw',
  key: (r) => JSON.stringify(r),
  merge: (into, r) => into ?? r,
  parse(v) {
    if (typeof v !== 'object' || v === null) return undefined
    const o = v as Record<string, unknown>
    if (!isName(o.visitor) || !isName(o.experiment) || !isName(o.arm) || !isTime(o.at)) return undefined
    if (o.table === 'exposures' && isName(o.placement))
      return { table: 'exposures', visitor: o.visitor, experiment: o.experiment, arm: o.arm, placement: o.placement, at: o.at }
    if (o.table === 'conversions' && isName(o.goal)) {
      const value = typeof o.value === 'number' && Number.isFinite(o.value) ? o.value : null
      return { table: 'conversions', visitor: o.visitor, experiment: o.experiment, arm: o.arm, goal: o.goal, at: o.at, value }
    }
    return undefined
  },
  upsert: (db, r) =>
    r.table === 'exposures'
      ? db.prepare(INSERT_EXPOSURE).bind(r.visitor, r.experiment, r.arm, r.placement, r.at)
      : db.prepare(INSERT_CONVERSION).bind(r.visitor, r.experiment, r.arm, r.goal, r.at, r.value),
}
