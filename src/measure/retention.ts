import type { Env } from '../env'
import { getRuleset } from '../rules/store'
import { purgeSample } from '../segments/sample'
import { logError, logWarn } from '../util/log'
import { utcDay } from './store'

/** Days raw measurement rows are kept when the ruleset does not say (settings.retentionDays). */
export const DEFAULT_RETENTION_DAYS = 90
const DAY_MS = 86_400_000
/** Rows deleted per statement, so one run never holds a long write lock on D1. */
const CHUNK = 5_000
/** Upper bound on statements per table per run; the next run continues. */
const MAX_ROUNDS = 200

export interface PurgeResult {
  cutoff: number
  exposures: number
  conversions: number
  served: number
}

async function deleteInChunks(db: D1Database, sql: string, bind: (string | number)[]): Promise<number> {
  let total = 0
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const r = await db
      .prepare(sql)
      .bind(...bind, CHUNK)
      .run()
    const changed = r.meta.changes ?? 0
    total += changed
    if (changed < CHUNK) break
  }
  return total
}

/**
 * Deletes raw rows older than `retentionDays` before `now`: exposures and conversions by their
 * time, served counters by their day, and conversions whose exposure is gone (so results never
 * count a conversion without its exposure).
 */
export async function purgeExpired(db: D1Database, retentionDays: number, now: number): Promise<PurgeResult> {
  const cutoff = now - retentionDays * DAY_MS
  const exposures = await deleteInChunks(
    db,
    'DELETE FROM exposures WHERE rowid IN (SELECT rowid FROM exposures WHERE exposed_at < ?1 LIMIT ?2)',
    [cutoff],
  )
  const conversions = await deleteInChunks(
    db,
    `DELETE FROM conversions WHERE rowid IN (SELECT c.rowid FROM conversions c WHERE c.converted_at < ?1
       OR NOT EXISTS (SELECT 1 FROM exposures e WHERE e.experiment = c.experiment AND e.visitor = c.visitor) LIMIT ?2)`,
    [cutoff],
  )
  const served = await deleteInChunks(
    db,
    'DELETE FROM served WHERE rowid IN (SELECT rowid FROM served WHERE day < ?1 LIMIT ?2)',
    [utcDay(cutoff)],
  )
  return { cutoff, exposures, conversions, served }
}

/**
 * The `scheduled` handler's work (cron in wrangler.toml): purge with the active ruleset's
 * `settings.retentionDays`. When the ruleset cannot be read (KV error, timeout) nothing is
 * deleted, rather than guessing a shorter period than the owner configured.
 */
export async function runRetention(
  env: Env,
  now: number,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<PurgeResult | undefined> {
  const db = env.DB
  if (db === undefined) return undefined
  try {
    const lookup = await getRuleset(env.RULES, { budgetMs: 5_000, waitUntil })
    let days = lookup.ruleset?.settings.retentionDays
    if (days === undefined) {
      if (lookup.source !== 'empty' && lookup.source !== 'unbound') {
        logWarn('measure_retention_skipped', { rulesetSource: lookup.source })
        return undefined
      }
      days = DEFAULT_RETENTION_DAYS
    }
    const result = await purgeExpired(db, days, now)
    const sampleRows = await purgeSample(db, days, now)
    console.log(
      JSON.stringify({
        level: 'info',
        source: 'veneer',
        code: 'measure_retention_done',
        retentionDays: days,
        ...result,
        sampleRows,
      }),
    )
    return result
  } catch (err) {
    logError('measure_retention_failed', err)
    return undefined
  }
}
