import { utcDay } from './store'

/** One counter row: how often a placement was served with a variant on a UTC day, and why. */
export interface ServedRow {
  day: string
  placement: string
  variant: string
  source: string
  count: number
}

export interface ServedReport {
  /** First and last UTC day covered, inclusive. */
  from: string
  to: string
  days: ServedRow[]
  /** The same counts summed over the period, per placement and variant. */
  totals: { placement: string; variant: string; count: number }[]
}

const DAY_MS = 86_400_000

/**
 * How often each variant of each placement was served to consenting visitors over the last
 * `days` UTC days (today included), from the `served` counters.
 */
export async function servedReport(db: D1Database, days: number, now: number = Date.now()): Promise<ServedReport> {
  const from = utcDay(now - (days - 1) * DAY_MS)
  const to = utcDay(now)
  const { results } = await db
    .prepare(
      'SELECT day, placement, variant, source, count FROM served WHERE day >= ?1 AND day <= ?2 ORDER BY day, placement, variant, source',
    )
    .bind(from, to)
    .all<Record<string, unknown>>()
  const rows: ServedRow[] = results.map((r) => ({
    day: String(r.day),
    placement: String(r.placement),
    variant: String(r.variant),
    source: String(r.source),
    count: typeof r.count === 'number' ? r.count : 0,
  }))
  const totals = new Map<string, { placement: string; variant: string; count: number }>()
  for (const r of rows) {
    const key = JSON.stringify([r.placement, r.variant])
    const t = totals.get(key) ?? { placement: r.placement, variant: r.variant, count: 0 }
    t.count += r.count
    totals.set(key, t)
  }
  const sorted = [...totals.values()].sort((a, b) => a.placement.localeCompare(b.placement) || b.count - a.count)
  return { from, to, days: rows, totals: sorted }
}
