import { utcDay } from '../measure/store'
import { splitPair, pairKey } from './similarity'

/**
 * Counters the model learns from (SPEC 13), aggregated before storage like measurement (SPEC 12):
 * an item view or cart add adds to an in-isolate tally, and the tally is written at most once
 * per flush (one upsert per touched row), never once per view.
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
  slot: 'top' | 'explore'
  count: number
}

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

/** Sums rows with the same key. */
export function sumCounts(rows: readonly CountRow[]): CountRow[] {
  const out = new Map<string, CountRow>()
  for (const r of rows) {
    const key = `${r.day}\n${r.kind}\n${r.a}\n${r.b}`
    const t = out.get(key)
    if (t === undefined) out.set(key, { ...r })
    else t.count += r.count
  }
  return [...out.values()]
}

export function sumServed(rows: readonly ServedSlotRow[]): ServedSlotRow[] {
  const out = new Map<string, ServedSlotRow>()
  for (const r of rows) {
    const key = `${r.day}\n${r.placement}\n${r.strategy}\n${r.slot}`
    const t = out.get(key)
    if (t === undefined) out.set(key, { ...r })
    else t.count += r.count
  }
  return [...out.values()]
}

/** The statements that add summed tallies to D1: one per touched row. */
export function countStatements(
  db: D1Database,
  counts: readonly CountRow[],
  served: readonly ServedSlotRow[],
): D1PreparedStatement[] {
  return [
    ...sumCounts(counts).map((r) => db.prepare(UPSERT_COUNT).bind(r.day, r.kind, r.a, r.b, r.count)),
    ...sumServed(served).map((r) => db.prepare(UPSERT_SERVED).bind(r.day, r.placement, r.strategy, r.slot, r.count)),
  ]
}

/** Writes tallies in one `db.batch` (one transaction: a failed flush leaves nothing behind). */
export async function writeCounts(
  db: D1Database,
  counts: readonly CountRow[],
  served: readonly ServedSlotRow[] = [],
): Promise<number> {
  const statements = countStatements(db, counts, served)
  if (statements.length > 0) await db.batch(statements)
  return statements.length
}
