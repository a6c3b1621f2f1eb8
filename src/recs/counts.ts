import { type AggregateKind, addCount, isCount, isDayKey } from '../measure/aggregate'
import { utcDay } from '../measure/store'
import { splitPair, pairKey } from './similarity'

/**
 * Counters the model learns from (SPEC 13), aggregated before storage like measurement (SPEC 12):
 * an item view or cart add adds rows to the isolate's aggregator (src/measure/aggregate.ts),
 * which merges them by key and stores them at most every 10 s, one upsert per touched row.
 */
export type CountKind = 'view' | 'buy'

/** One tally key: an item (`b` = '') or a pair (`a` < `b`), of one kind, on one UTC day. */
export interface CountRow {
  day: string
  kind: CountKind
  a: string
  b: string
  count: number
}

/** A slot served by a `recommend` operation, `top` or `explore` (measured, SPEC 13). */
export interface ServedSlotRow {
  day: string
  placement: string
  strategy: string
  /** A slot shown (`top`, `explore`), or a later view of an item a slot showed (`…-followed`). */
  slot: RecsSlot
  count: number
}

export const SLOTS = ['top', 'explore', 'top-followed', 'explore-followed'] as const
export type RecsSlot = (typeof SLOTS)[number]

/**
 * The tallies one view adds: the item, and a pair with each item the visitor saw before (at most
 * the bounded recent list of `veneer_visitor`, so a view costs a bounded number of keys).
 */
export function viewRows(item: string, before: readonly string[], at: number, kind: CountKind = 'view'): CountRow[] {
  const day = utcDay(at)
  const rows: CountRow[] = [{ day, kind, a: item, b: '', count: 1 }]
  for (const other of new Set(before)) {
    if (other === item) continue
    const [a, b] = splitPair(pairKey(item, other))
    rows.push({ day, kind, a, b, count: 1 })
  }
  return rows
}

const UPSERT_COUNT = `INSERT INTO recs_counts (day, kind, a, b, count) VALUES (?1, ?2, ?3, ?4, ?5)
  ON CONFLICT (day, kind, a, b) DO UPDATE SET count = count + excluded.count`
const UPSERT_SERVED = `INSERT INTO recs_served (day, placement, strategy, slot, count) VALUES (?1, ?2, ?3, ?4, ?5)
  ON CONFLICT (day, placement, strategy, slot) DO UPDATE SET count = count + excluded.count`

const isId = (v: unknown, empty = false): v is string =>
  typeof v === 'string' && v.length <= 200 && (empty ? true : v.length > 0) && !v.includes('\n')

/** The `cooc` aggregate kind (src/measure/aggregate.ts): item and pair counts, summed per day. */
export const coocKind: AggregateKind<CountRow> = {
  kind: 'cooc',
  key: (r) => JSON.stringify([r.day, r.kind, r.a, r.b]),
  merge: addCount,
  parse(v) {
    if (typeof v !== 'object' || v === null) return undefined
    const o = v as Record<string, unknown>
    if (!isDayKey(o.day) || (o.kind !== 'view' && o.kind !== 'buy') || !isId(o.a) || !isId(o.b, true) || !isCount(o.count))
      return undefined
    return { day: o.day, kind: o.kind, a: o.a, b: o.b, count: o.count }
  },
  upsert: (db, r) => db.prepare(UPSERT_COUNT).bind(r.day, r.kind, r.a, r.b, r.count),
}

/** The `recs-served` aggregate kind: recommendation slots shown, `top` or `explore`, per day. */
export const recsServedKind: AggregateKind<ServedSlotRow> = {
  kind: 'recs-served',
  key: (r) => JSON.stringify([r.day, r.placement, r.strategy, r.slot]),
  merge: addCount,
  parse(v) {
    if (typeof v !== 'object' || v === null) return undefined
    const o = v as Record<string, unknown>
    if (
      !isDayKey(o.day) ||
      !isId(o.placement) ||
      !isId(o.strategy) ||
      !(SLOTS as readonly unknown[]).includes(o.slot) ||
      !isCount(o.count)
    )
      return undefined
    return { day: o.day, placement: o.placement, strategy: o.strategy, slot: o.slot as RecsSlot, count: o.count }
  },
  upsert: (db, r) => db.prepare(UPSERT_SERVED).bind(r.day, r.placement, r.strategy, r.slot, r.count),
}
