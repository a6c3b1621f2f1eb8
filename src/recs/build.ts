import type { Env } from '../env'
import { utcDay } from '../measure/store'
import { logError, logWarn } from '../util/log'
import { CATALOG_KEY, parseStoredCatalog } from './catalog'
import { buildModel, MODEL_META_KEY, type RecsCounts, type RecsModelDoc } from './model'
import { MODEL_FORMAT, modelKvEntries } from './model-codec'
import { pairKey } from './similarity'

/** Days of counters the model learns from, and the recent window trending compares with it. */
export const MODEL_WINDOW_DAYS = 28
export const TRENDING_DAYS = 2
/** The scheduled handler rebuilds at most this often, whatever the crons (a bandit's run every 5 minutes). */
export const REBUILD_MINUTES = 60
export { MODEL_META_KEY }
const DAY_MS = 86_400_000

const SUMS = `SELECT kind, a, b, SUM(count) AS n FROM recs_counts WHERE day >= ?1 GROUP BY kind, a, b`
const RECENT_VIEWS = `SELECT a, SUM(count) AS n FROM recs_counts WHERE day >= ?1 AND kind = 'view' AND b = '' GROUP BY a`
const PURGE = 'DELETE FROM recs_counts WHERE day < ?1'

/** Sums the counters over the model window (and the trending window) from D1. */
export async function readCounts(db: D1Database, now: number): Promise<RecsCounts> {
  const from = utcDay(now - (MODEL_WINDOW_DAYS - 1) * DAY_MS)
  const recentFrom = utcDay(now - (TRENDING_DAYS - 1) * DAY_MS)
  const [all, recent] = await db.batch<Record<string, unknown>>([
    db.prepare(SUMS).bind(from),
    db.prepare(RECENT_VIEWS).bind(recentFrom),
  ])
  const views = new Map<string, number>()
  const viewPairs = new Map<string, number>()
  const buys = new Map<string, number>()
  const buyPairs = new Map<string, number>()
  for (const r of all?.results ?? []) {
    const n = Number(r.n)
    const a = String(r.a)
    const b = String(r.b ?? '')
    if (!Number.isFinite(n) || n <= 0) continue
    const single = b === ''
    if (r.kind === 'view') (single ? views : viewPairs).set(single ? a : pairKey(a, b), n)
    else if (r.kind === 'buy') (single ? buys : buyPairs).set(single ? a : pairKey(a, b), n)
  }
  const recentViews = new Map<string, number>()
  for (const r of recent?.results ?? []) {
    const n = Number(r.n)
    if (Number.isFinite(n) && n > 0) recentViews.set(String(r.a), n)
  }
  return { views, recentViews, viewPairs, buys, buyPairs, windowDays: MODEL_WINDOW_DAYS, trendingDays: TRENDING_DAYS }
}

export type BuildOutcome =
  | { ok: true; version: string; items: number; neighbours: number; bytes: number }
  | { ok: false; reason: 'unbound' | 'no_catalog' | 'failed' }

/**
 * The scheduled model build (SPEC 13): counters from `DB` and the catalog from `RULES` into
 * `recs:model` (format 2, src/recs/model-codec.ts) with one `put`, so the Worker reads the old model or
 * the new one, never a mix. Counters older than the window are deleted. Never rejects.
 */
export async function buildRecsModel(env: Env, now: number = Date.now()): Promise<BuildOutcome> {
  const kv = env.RULES
  const db = env.DB
  if (kv === undefined || db === undefined) return { ok: false, reason: 'unbound' }
  try {
    const catalog = parseStoredCatalog(await kv.get(CATALOG_KEY, 'text'))
    if (catalog === undefined) {
      logWarn('recs_no_catalog', { hint: 'publish one with PUT /__veneer/api/catalog or `veneer catalog push`' })
      return { ok: false, reason: 'no_catalog' }
    }
    const counts = await readCounts(db, now)
    const model: RecsModelDoc = buildModel(catalog, counts, new Date(now))
    // The model first, then its meta: a Worker that sees the new version reads the new model.
    const entries = modelKvEntries(model)
    for (const [key, value] of entries) await kv.put(key, value)
    const bytes = entries[0]?.[1].length ?? 0
    await db
      .prepare(PURGE)
      .bind(utcDay(now - MODEL_WINDOW_DAYS * DAY_MS))
      .run()
    const neighbours = Object.values(model.alsoViewed).reduce((n, l) => n + l.length, 0)
    return { ok: true, version: model.version, items: model.items.length, neighbours, bytes }
  } catch (err) {
    logError('recs_model_build_failed', err)
    return { ok: false, reason: 'failed' }
  }
}

/**
 * The cron entry: rebuilds the model when the last build is {@link REBUILD_MINUTES} old or more
 * (or there is none), and at once when the stored model is not in the current format (written by
 * an earlier release: Workers decode a format 1 model only after a response, at a cost).
 * `PUT api/catalog` and `POST api/recs/build` rebuild at once.
 */
export async function scheduledRecsBuild(env: Env, now: number): Promise<BuildOutcome | { ok: true; skipped: true }> {
  try {
    const meta: unknown = JSON.parse((await env.RULES?.get(MODEL_META_KEY, 'text')) ?? 'null')
    const m = typeof meta === 'object' && meta !== null ? (meta as { builtAt?: unknown; format?: unknown }) : {}
    const builtAt = Date.parse(String(m.builtAt))
    const current = m.format === MODEL_FORMAT
    if (current && Number.isFinite(builtAt) && now - builtAt >= 0 && now - builtAt < REBUILD_MINUTES * 60_000 - 60_000)
      return { ok: true, skipped: true }
  } catch {
    // an unreadable meta value: rebuild
  }
  return buildRecsModel(env, now)
}
