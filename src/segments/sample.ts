import type { Context } from '../context/types'
import { DAYS_SINCE_FIRST_SEEN, featureOf, type Sample } from './features'

/**
 * The daily sample segment discovery clusters (SPEC 15): what the edge knows of a consenting
 * visitor (behavior counters, sessions, days since first seen, device type, continent), with no
 * id, at most `SAMPLE_DAILY_CAP` rows per UTC day, aggregated per isolate before it is stored.
 *
 * How it stays bounded and (close to) uniform over the day's visitors:
 * - per isolate, a visitor is offered at most once per UTC day (an in-memory set of a hash of the
 *   id, never stored), and the offers between two flushes are reduced to a reservoir of at most
 *   `SAMPLE_BATCH_CAP` rows (Algorithm R);
 * - a flush reserves the window's positions in the day's stream with one counter statement
 *   (`offered`, RETURNING the new total), then applies reservoir sampling over the day: a row at
 *   position p < cap fills slot p, later ones replace a random slot with probability
 *   (offers in the window / rows kept) · cap / (p + 1), which is what each offer would have had.
 *   First-N per day would be simpler but keeps only the visitors of the first hours (UTC), i.e.
 *   of a few time zones; the reservoir keeps the whole day.
 * Visitors can still appear twice in a day when two isolates see them; for clustering this is noise.
 */

export const SAMPLE_DAILY_CAP = 2000
export const SAMPLE_BATCH_CAP = 100
/** Visitors remembered per isolate per day to offer each once; past this, offers are still taken. */
const SEEN_CAP = 50_000

/** One visitor's features: numbers by attribute, and `device.type` / `geo.continent` as strings. */
export type SampleRow = Record<string, number | string>

const DAY_MS = 86_400_000
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** The row for a consenting, known, non-bot visitor; undefined otherwise. */
export function sampleRowOf(ctx: Context, categories: readonly string[], now: number): SampleRow | undefined {
  if (!ctx.consent.analytics || ctx.device.isBot) return undefined
  const v = ctx.visitor
  const b = ctx.behavior
  if (v === undefined || b === undefined) return undefined
  const first = Date.parse(v.firstSeen)
  const row: SampleRow = {
    'behavior.pageViews': b.pageViews,
    'behavior.cartAdds': b.cartAdds,
    'behavior.purchases': b.purchases,
    'visitor.sessions': v.sessions,
    [DAYS_SINCE_FIRST_SEEN]: Number.isFinite(first) ? Math.max(0, Math.floor(now / DAY_MS) - Math.floor(first / DAY_MS)) : 0,
    'device.type': ctx.device.type,
  }
  for (const c of categories) row[`behavior.views.${c}`] = b.views[c] ?? 0
  if (ctx.geo.continent !== undefined) row['geo.continent'] = ctx.geo.continent
  return row
}

/** FNV-1a of the id: for "offered today" only, kept in memory, never stored or logged. */
function idHash(id: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export interface SampleBatch {
  day: string
  /** Offers this batch stands for. */
  offered: number
  rows: SampleRow[]
}

/** The per-isolate buffer: a reservoir per UTC day between flushes. */
export class SampleBuffer {
  private day = ''
  private seen = new Set<number>()
  private batches = new Map<string, SampleBatch>()

  constructor(private readonly random: () => number = Math.random) {}

  /** Offers a visitor's row; returns whether anything is now waiting to be flushed. */
  offer(visitorId: string, row: SampleRow, now: number): boolean {
    const day = utcDay(now)
    if (day !== this.day) {
      this.day = day
      this.seen.clear()
    }
    const h = idHash(visitorId)
    if (this.seen.has(h)) return this.batches.size > 0
    if (this.seen.size < SEEN_CAP) this.seen.add(h)
    let batch = this.batches.get(day)
    if (batch === undefined) {
      batch = { day, offered: 0, rows: [] }
      this.batches.set(day, batch)
    }
    batch.offered++
    if (batch.rows.length < SAMPLE_BATCH_CAP) batch.rows.push(row)
    else {
      const j = Math.floor(this.random() * batch.offered)
      if (j < SAMPLE_BATCH_CAP) batch.rows[j] = row
    }
    return true
  }

  /** Rows waiting, for the flush policy. */
  get pending(): number {
    let n = 0
    for (const b of this.batches.values()) n += b.offered
    return n
  }

  /** Takes everything buffered (the caller writes it). */
  take(): SampleBatch[] {
    const out = [...this.batches.values()]
    this.batches.clear()
    return out
  }
}

/** Writes one batch: reserves its positions in the day, then reservoir-samples into the day's slots. */
export async function writeSampleBatch(
  db: D1Database,
  batch: SampleBatch,
  random: () => number = Math.random,
  cap: number = SAMPLE_DAILY_CAP,
): Promise<number> {
  if (batch.rows.length === 0 || batch.offered === 0) return 0
  const counter = await db
    .prepare(
      `INSERT INTO segment_sample_days (day, offered) VALUES (?1, ?2)
       ON CONFLICT (day) DO UPDATE SET offered = offered + excluded.offered RETURNING offered`,
    )
    .bind(batch.day, batch.offered)
    .first<{ offered: number }>()
  const total = counter?.offered ?? batch.offered
  const start = total - batch.offered
  const weight = batch.offered / batch.rows.length
  const writes: D1PreparedStatement[] = []
  const insert = db.prepare('INSERT OR REPLACE INTO segment_sample (day, slot, row) VALUES (?1, ?2, ?3)')
  for (const row of batch.rows) {
    const p = start + Math.floor(random() * batch.offered)
    let slot: number | undefined
    if (p < cap) slot = p
    else if (random() < Math.min(1, (weight * cap) / (p + 1))) slot = Math.floor(random() * cap)
    if (slot !== undefined) writes.push(insert.bind(batch.day, slot, JSON.stringify(row)))
  }
  if (writes.length > 0) await db.batch(writes)
  return writes.length
}

/** Deletes sample rows (and day counters) older than `retentionDays` before `now`. */
export async function purgeSample(db: D1Database, retentionDays: number, now: number): Promise<number> {
  const cutoff = utcDay(now - retentionDays * DAY_MS)
  const r = await db.prepare('DELETE FROM segment_sample WHERE day < ?1').bind(cutoff).run()
  await db.prepare('DELETE FROM segment_sample_days WHERE day < ?1').bind(cutoff).run()
  return r.meta.changes ?? 0
}

/** Rows read for one discovery at most (the cap × a month). */
export const MAX_READ_ROWS = SAMPLE_DAILY_CAP * 31

/**
 * The stored sample of the last `days` UTC days as a `Sample`: numeric columns by attribute, and
 * one-hot columns (`device.type=mobile`, `geo.continent=EU`) for each string value seen.
 */
export async function readSample(db: D1Database, days: number, now: number = Date.now()): Promise<Sample> {
  const from = utcDay(now - (days - 1) * DAY_MS)
  const { results } = await db
    .prepare('SELECT row FROM segment_sample WHERE day >= ?1 ORDER BY day, slot LIMIT ?2')
    .bind(from, MAX_READ_ROWS)
    .all<{ row: unknown }>()
  const parsed: SampleRow[] = []
  for (const r of results) {
    if (typeof r.row !== 'string') continue
    try {
      const v: unknown = JSON.parse(r.row)
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) parsed.push(v as SampleRow)
    } catch {
      // A row that does not parse is skipped: the sample is best effort.
    }
  }
  return sampleFromRows(parsed)
}

/** Builds the numeric matrix from stored rows (exported for tests). */
export function sampleFromRows(rows: readonly SampleRow[]): Sample {
  const numeric = new Set<string>()
  const categorical = new Map<string, Set<string>>()
  for (const r of rows)
    for (const [k, v] of Object.entries(r)) {
      if (typeof v === 'number' && Number.isFinite(v)) numeric.add(k)
      else if (typeof v === 'string') {
        const s = categorical.get(k) ?? new Set<string>()
        s.add(v)
        categorical.set(k, s)
      }
    }
  const names = [...numeric].sort()
  for (const [k, values] of [...categorical].sort((a, b) => a[0].localeCompare(b[0])))
    for (const v of [...values].sort()) names.push(`${k}=${v}`)
  const features = names.map(featureOf)
  const matrix = rows.map((r) =>
    features.map((f) => {
      if (f.spec.kind === 'oneHot') return r[f.spec.attribute] === f.spec.value ? 1 : 0
      const v = r[f.name]
      return typeof v === 'number' && Number.isFinite(v) ? v : 0
    }),
  )
  return { features, rows: matrix }
}
