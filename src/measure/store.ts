import type { MeasureEvent, ServedEvent } from './types'

/** `YYYY-MM-DD` of a millisecond timestamp, in UTC. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10)
}

const INSERT_EXPOSURE =
  'INSERT OR IGNORE INTO exposures (visitor, experiment, variant, placement, exposed_at) VALUES (?1, ?2, ?3, ?4, ?5)'
// Attribution at write time: one row per experiment the visitor was exposed to at or before
// the conversion; the UNIQUE (experiment, goal, visitor) key keeps only the first.
const INSERT_CONVERSION = `INSERT OR IGNORE INTO conversions (visitor, experiment, variant, goal, converted_at, value)
  SELECT visitor, experiment, variant, ?2, ?3, ?4 FROM exposures WHERE visitor = ?1 AND exposed_at <= ?3`
const UPSERT_SERVED = `INSERT INTO served (day, placement, variant, source, count) VALUES (?1, ?2, ?3, ?4, ?5)
  ON CONFLICT (day, placement, variant, source) DO UPDATE SET count = count + excluded.count`

const ORDER: Record<MeasureEvent['kind'], number> = { exposure: 0, conversion: 1, served: 2 }

/**
 * Sorts events by time, exposures before conversions at the same instant, so a batch that
 * arrives out of order still attributes each conversion to the exposures before it.
 */
export function inWriteOrder(events: readonly MeasureEvent[]): MeasureEvent[] {
  return [...events].sort((a, b) => a.at - b.at || ORDER[a.kind] - ORDER[b.kind])
}

/** Sums `served` events by day, placement, variant and source: one upsert each. */
function servedTotals(events: readonly MeasureEvent[]): Map<string, { day: string; e: ServedEvent; count: number }> {
  const totals = new Map<string, { day: string; e: ServedEvent; count: number }>()
  for (const e of events) {
    if (e.kind !== 'served') continue
    const day = utcDay(e.at)
    const key = JSON.stringify([day, e.placement, e.variant, e.source])
    const t = totals.get(key)
    if (t === undefined) totals.set(key, { day, e, count: e.count ?? 1 })
    else t.count += e.count ?? 1
  }
  return totals
}

/** The statements that store `events`, in write order. */
export function statementsFor(db: D1Database, events: readonly MeasureEvent[]): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = []
  for (const e of inWriteOrder(events)) {
    if (e.kind === 'exposure') out.push(db.prepare(INSERT_EXPOSURE).bind(e.visitor, e.experiment, e.variant, e.placement, e.at))
    else if (e.kind === 'conversion') out.push(db.prepare(INSERT_CONVERSION).bind(e.visitor, e.goal, e.at, e.value ?? null))
  }
  for (const { day, e, count } of servedTotals(events).values()) {
    out.push(db.prepare(UPSERT_SERVED).bind(day, e.placement, e.variant, e.source, count))
  }
  return out
}

/**
 * Writes events to D1 in one `db.batch`: a single transaction, so a failed write leaves
 * nothing behind and a retry (the queue's) cannot count a served variant twice.
 */
export async function writeEvents(db: D1Database, events: readonly MeasureEvent[]): Promise<void> {
  const statements = statementsFor(db, events)
  if (statements.length > 0) await db.batch(statements)
}
