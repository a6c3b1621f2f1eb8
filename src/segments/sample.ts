import type { Context } from '../context/types'
import { type AggregateKind, isDayKey } from '../measure/aggregate'
import { type ExposureMemo, MAX_MEMO_GOALS } from '../measure/memory'
import { DAYS_SINCE_FIRST_SEEN, featureOf, type Sample } from './features'
/**
 * The daily sample segment discovery clusters (SPEC 15): what the edge knows of a consenting
 * visitor (behavior counters, sessions, days since first seen, device type, continent), with no
 * id, at most `SAMPLE_DAILY_CAP` rows per UTC day, aggregated per isolate before it is stored
 * (the `sample` kind of src/measure/aggregate.ts).
 *
 * How it stays bounded and uniform over the day's visitors, whatever the order they come in:
 * each offered visitor draws a random slot in [0, cap) and a random priority; per day and slot
 * the row with the lowest priority is kept, in the isolate's buffer (merge, at most
 * MAX_DAY_ENTRIES candidates per flush) and in D1 (one UPSERT per day and flush that replaces
 * only a higher priority). Every visitor then has the same chance to be kept,
 * early or late in the day; "first N per day" would keep only the first hours (UTC), i.e. a few
 * time zones. The priority is random, not derived from the id, so it identifies no one.
 * A visitor is offered at most once per isolate per UTC day (an in-memory set of a hash of the
 * id, never stored); two isolates may both offer the same visitor, which is noise for clustering.
 *
 * Each row also carries the visitor's experiments (`exposures`, migration 0007): for each running
 * experiment the visitor was counted in, the arm and the goals already converted on, copied from
 * the measurement memory `veneer_visitor` already holds (src/measure/memory.ts). Nothing is added
 * to the cookie. It lets a proposed (unpublished) segment's condition be evaluated on the sample
 * to estimate its per-arm results (src/segments/proposed.ts); see docs/segments.md for why such
 * estimates are noisier than `stats_daily`'s.
 */

export const SAMPLE_DAILY_CAP = 2000
/** Visitors remembered per isolate per day to offer each once; past this, offers are still taken. */
const SEEN_CAP = 50_000

/** One visitor's features: numbers by attribute, and `device.type` / `geo.continent` as strings. */
export type SampleRow = Record<string, number | string>

/** One experiment of a sampled visitor: `[experiment, arm, goals converted on]` (no values, no times). */
export type SampleExposure = [experiment: string, arm: string, goals: string[]]

/** Experiments recorded per sample row at most (the most recent exposures are kept). */
export const MAX_SAMPLE_EXPOSURES = 8
/** JSON characters of one row's exposures at most; experiments beyond are left out. */
const MAX_EXPOSURES_CHARS = 2_000

/** One candidate for a slot of a day's sample. */
export interface SampleEntry {
  day: string
  slot: number
  /** Uniform in [0, 1): the lowest per slot is kept. */
  priority: number
  row: SampleRow
  /** The visitor's running experiments at sampling time (empty when none). */
  exposures: SampleExposure[]
}

/**
 * The sample's view of a visitor's measurement memory: only experiments in `running` (the
 * ruleset's), most recent first, at most {@link MAX_SAMPLE_EXPOSURES} and
 * {@link MAX_EXPOSURES_CHARS}; goals as ids only (a value total could be revenue).
 */
export function sampleExposuresOf(memos: readonly ExposureMemo[], running: ReadonlySet<string>): SampleExposure[] {
  const out: SampleExposure[] = []
  let chars = 2
  for (let i = memos.length - 1; i >= 0 && out.length < MAX_SAMPLE_EXPOSURES; i--) {
    const m = memos[i] as ExposureMemo
    if (!running.has(m.experiment) || out.some((e) => e[0] === m.experiment)) continue
    const e: SampleExposure = [m.experiment, m.arm, m.goals.slice(0, MAX_MEMO_GOALS).map((g) => g[0])]
    chars += JSON.stringify(e).length + 1
    if (chars > MAX_EXPOSURES_CHARS) break
    out.push(e)
  }
  return out
}

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

/** A visitor's place in today's sample: the slot and priority drawn at the first offer. */
export interface SampleTicket {
  slot: number
  priority: number
}

/**
 * Remembers who was offered today in this isolate (a hash of the id → the slot and priority drawn,
 * and how far the visitor's experiments had got), so a visitor's many views count once. A later
 * view whose experiments progressed (a new exposure, a goal converted on) is offered again with
 * the same slot and priority: it replaces the earlier state of the same visitor, not another
 * visitor, and a visitor sampled before converting is updated when a later view in this isolate
 * knows the conversion.
 */
export class OfferedToday {
  private day = ''
  private seen = new Map<number, SampleTicket & { progress: number }>()

  /**
   * The ticket to offer `visitorId` with now: a fresh one the first time on `now`'s UTC day, the
   * same one again when `progress` grew since, undefined otherwise (nothing to offer).
   */
  offer(
    visitorId: string,
    now: number,
    progress = 0,
    random: () => number = Math.random,
    cap = SAMPLE_DAILY_CAP,
  ): SampleTicket | undefined {
    const day = utcDay(now)
    if (day !== this.day) {
      this.day = day
      this.seen.clear()
    }
    const h = idHash(visitorId)
    const had = this.seen.get(h)
    if (had !== undefined) {
      if (progress <= had.progress) return undefined
      had.progress = progress
      return { slot: had.slot, priority: had.priority }
    }
    const ticket = { slot: Math.floor(random() * cap), priority: random() }
    if (this.seen.size < SEEN_CAP) this.seen.set(h, { ...ticket, progress })
    return ticket
  }

  /** True the first time `visitorId` is offered on `now`'s UTC day. */
  first(visitorId: string, now: number): boolean {
    return this.offer(visitorId, now) !== undefined
  }
}

/** How far a visitor's experiments have got: exposures plus goals converted on (grows, never shrinks in a day). */
export function progressOf(exposures: readonly SampleExposure[]): number {
  return exposures.reduce((n, e) => n + 1 + e[2].length, 0)
}

/** A candidate entry for `row` on `now`'s day: a random slot and priority. */
export function sampleEntry(
  row: SampleRow,
  now: number,
  random: () => number = Math.random,
  cap = SAMPLE_DAILY_CAP,
  exposures: SampleExposure[] = [],
  ticket?: SampleTicket,
): SampleEntry {
  const t = ticket ?? { slot: Math.floor(random() * cap), priority: random() }
  return { day: utcDay(now), slot: t.slot, priority: t.priority, row, exposures }
}

const pageViews = (e: SampleEntry): number => {
  const v = e.row['behavior.pageViews']
  return typeof v === 'number' ? v : 0
}

/**
 * Whether `e` takes the slot from `had`: a lower priority (another visitor), or the same priority
 * (the same visitor, offered again) with more page views, i.e. a later state of that visitor.
 */
function wins(e: SampleEntry, had: SampleEntry): boolean {
  return e.priority < had.priority || (e.priority === had.priority && pageViews(e) > pageViews(had))
}

const MAX_ROW_KEYS = 80
const ROW_KEY = /^[A-Za-z0-9_.:=-]{1,120}$/

function parseRow(v: unknown): SampleRow | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
  const entries = Object.entries(v)
  if (entries.length > MAX_ROW_KEYS) return undefined
  const row: SampleRow = {}
  for (const [k, x] of entries) {
    if (!ROW_KEY.test(k)) return undefined
    if (typeof x === 'number' && Number.isFinite(x)) row[k] = x
    else if (typeof x === 'string' && x.length <= 40) row[k] = x
    else return undefined
  }
  return row
}

/**
 * What one isolate holds for one day between flushes: the lowest-priority candidate per slot,
 * at most {@link MAX_DAY_ENTRIES} of them (the lowest priorities; see the module comment).
 */
export interface SampleDay {
  day: string
  entries: SampleEntry[]
}

/**
 * Candidates one isolate sends per day and flush. Dropping the others changes nothing in practice:
 * a slot ends the day holding a priority near cap / (visitors that day), far below the 150th
 * lowest of any one isolate's 10-second window unless that window held a large share of the day.
 */
export const MAX_DAY_ENTRIES = 150
/** JSON characters per SampleDay at most, so a queue message stays small. */
const MAX_DAY_CHARS = 50_000

/** The day's candidates as one aggregate row. */
export function sampleDay(entry: SampleEntry): SampleDay {
  return { day: entry.day, entries: [entry] }
}

/** Lowest priority per slot, then the lowest MAX_DAY_ENTRIES within MAX_DAY_CHARS. */
function mergeDays(a: readonly SampleEntry[], b: readonly SampleEntry[]): SampleEntry[] {
  const bySlot = new Map<number, SampleEntry>()
  for (const e of [...a, ...b]) {
    const had = bySlot.get(e.slot)
    if (had === undefined || wins(e, had)) bySlot.set(e.slot, e)
  }
  const sorted = [...bySlot.values()].sort((x, y) => x.priority - y.priority)
  const out: SampleEntry[] = []
  let chars = 0
  for (const e of sorted) {
    if (out.length >= MAX_DAY_ENTRIES) break
    chars += JSON.stringify(e.row).length + JSON.stringify(e.exposures).length + 60
    if (chars > MAX_DAY_CHARS) break
    out.push(e)
  }
  return out
}

const EXPOSURE_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,99}$/

/** A row's exposures from untrusted JSON (a queue message or a stored row); undefined when malformed. */
export function parseExposures(v: unknown): SampleExposure[] | undefined {
  if (v === undefined) return []
  if (!Array.isArray(v) || v.length > MAX_SAMPLE_EXPOSURES) return undefined
  const out: SampleExposure[] = []
  for (const e of v) {
    if (!Array.isArray(e) || e.length !== 3) return undefined
    const [experiment, arm, goals] = e as unknown[]
    if (typeof experiment !== 'string' || !EXPOSURE_KEY.test(experiment)) return undefined
    if (typeof arm !== 'string' || !EXPOSURE_KEY.test(arm)) return undefined
    if (!Array.isArray(goals) || goals.length > MAX_MEMO_GOALS) return undefined
    if (!goals.every((g): g is string => typeof g === 'string' && EXPOSURE_KEY.test(g))) return undefined
    out.push([experiment, arm, goals])
  }
  return out
}

function parseEntry(v: unknown, day: string): SampleEntry | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Record<string, unknown>
  if (typeof o.slot !== 'number' || !Number.isInteger(o.slot) || o.slot < 0 || o.slot >= SAMPLE_DAILY_CAP) return undefined
  if (typeof o.priority !== 'number' || !(o.priority >= 0 && o.priority < 1)) return undefined
  const row = parseRow(o.row)
  const exposures = parseExposures(o.exposures)
  return row === undefined || exposures === undefined ? undefined : { day, slot: o.slot, priority: o.priority, row, exposures }
}

// One statement per day and flush: every candidate from the JSON array; a slot takes a
// candidate only when it is empty or holds a higher priority, or the same priority (the same
// visitor offered again) with fewer page views (an earlier state). `WHERE true` lets SQLite parse
// the upsert after a SELECT.
const UPSERT = `INSERT INTO segment_sample (day, slot, priority, row, exposures)
  SELECT ?1, json_extract(value, '$.slot'), json_extract(value, '$.priority'), json_extract(value, '$.row'),
    json_extract(value, '$.exposures')
  FROM json_each(?2) WHERE true
  ON CONFLICT (day, slot) DO UPDATE SET priority = excluded.priority, row = excluded.row, exposures = excluded.exposures
  WHERE excluded.priority < segment_sample.priority
    OR (excluded.priority = segment_sample.priority
      AND coalesce(json_extract(excluded.row, '$."behavior.pageViews"'), 0) > coalesce(json_extract(segment_sample.row, '$."behavior.pageViews"'), 0))`

/** The `sample` aggregate kind: per day, the candidates that may win a slot (one UPSERT per day). */
export const sampleKind: AggregateKind<SampleDay> = {
  kind: 'sample',
  key: (d) => d.day,
  merge: (into, d) => ({ day: d.day, entries: mergeDays(into?.entries ?? [], d.entries) }),
  parse(v) {
    if (typeof v !== 'object' || v === null) return undefined
    const o = v as Record<string, unknown>
    if (!isDayKey(o.day) || !Array.isArray(o.entries)) return undefined
    if (o.entries.length > MAX_DAY_ENTRIES) return undefined
    const entries: SampleEntry[] = []
    for (const raw of o.entries) {
      const e = parseEntry(raw, o.day)
      if (e === undefined) return undefined
      entries.push(e)
    }
    return { day: o.day, entries }
  },
  upsert: (db, d) =>
    db.prepare(UPSERT).bind(
      d.day,
      JSON.stringify(
        d.entries.map((e) => ({
          slot: e.slot,
          priority: e.priority,
          row: JSON.stringify(e.row),
          exposures: JSON.stringify(e.exposures),
        })),
      ),
    ),
}

/** Deletes sample rows older than `retentionDays` before `now`. */
export async function purgeSample(db: D1Database, retentionDays: number, now: number): Promise<number> {
  const cutoff = utcDay(now - retentionDays * DAY_MS)
  const r = await db.prepare('DELETE FROM segment_sample WHERE day < ?1').bind(cutoff).run()
  return r.meta.changes ?? 0
}

/** Rows read for one discovery at most (the cap × a month). */
export const MAX_READ_ROWS = SAMPLE_DAILY_CAP * 31

/**
 * The stored sample of the last `days` UTC days as a `Sample`: numeric columns by attribute, and
 * one-hot columns (`device.type=mobile`, `geo.continent=EU`) for each string value seen.
 *
 * With `limit`, at most that many rows, the lowest slots of every day: slots are drawn uniformly at
 * random, so these are a uniform subsample of each day's rows, spread evenly over the days, and
 * chosen by D1, not parsed by the Worker (a request's work stays bounded). `total` is then the
 * number of rows the days hold.
 */
export async function readSample(
  db: D1Database,
  days: number,
  now: number = Date.now(),
  limit?: number,
): Promise<Sample & { total: number }> {
  const from = utcDay(now - (days - 1) * DAY_MS)
  const bounded = limit !== undefined && limit < MAX_READ_ROWS
  const [{ results }, count] = await Promise.all([
    db
      .prepare(
        bounded
          ? 'SELECT row FROM segment_sample WHERE day >= ?1 ORDER BY slot, day LIMIT ?2'
          : 'SELECT row FROM segment_sample WHERE day >= ?1 ORDER BY day, slot LIMIT ?2',
      )
      .bind(from, bounded ? limit : MAX_READ_ROWS)
      .all<{ row: unknown }>(),
    bounded
      ? db.prepare('SELECT count(*) AS n FROM segment_sample WHERE day >= ?1').bind(from).first<{ n: unknown }>()
      : Promise.resolve(null),
  ])
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
  const total = count === null ? parsed.length : Math.max(parsed.length, Number(count.n) || 0)
  return { ...sampleFromRows(parsed), total }
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
