import type { BanditConfig } from './config'
import type { ArmCount } from './estimate'
import type { BanditCountsSource, BucketCounts } from './periods'

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)

/** Adds to the counts of one bucket and arm. */
function cellOf(buckets: BucketCounts, start: number, variant: unknown): ArmCount {
  let arms = buckets.get(start)
  if (arms === undefined) {
    arms = new Map()
    buckets.set(start, arms)
  }
  const arm = typeof variant === 'string' ? variant : ''
  let c = arms.get(arm)
  if (c === undefined) {
    c = { visitors: 0, conversions: 0 }
    arms.set(arm, c)
  }
  return c
}

/**
 * Bandit counts from `bandit_counts` (migration 0005), aggregated at the edge by exposure cohort
 * (src/bandit/record.ts): the default source. One query; buckets are re-cut to `every` minutes,
 * so a change of `every` only coarsens the buckets already stored.
 */
export function cohortSource(db: D1Database): BanditCountsSource {
  return async function fromCohorts(config: BanditConfig): Promise<BucketCounts> {
    const bucketMs = config.every * 60_000
    const { results } = await db
      .prepare(
        `SELECT bucket, arm, SUM(CASE WHEN goal = '' THEN visitors ELSE 0 END) AS visitors,
           SUM(CASE WHEN goal = ?2 THEN conversions ELSE 0 END) AS conversions
         FROM bandit_counts WHERE experiment = ?1 AND (goal = '' OR goal = ?2) GROUP BY bucket, arm`,
      )
      .bind(config.experiment, config.goal)
      .all<Record<string, unknown>>()
    const buckets: BucketCounts = new Map()
    for (const r of results) {
      const c = cellOf(buckets, Math.floor(num(r.bucket) / bucketMs) * bucketMs, r.arm)
      c.visitors += num(r.visitors)
      c.conversions += num(r.conversions)
    }
    return buckets
  }
}

/**
 * Bandit counts from the per-visitor audit rows (`exposures`, `conversions`, kept only with
 * `settings.measurement.rawEvents`): visitors by the bucket of their exposure time, and
 * conversions to the bandit's goal joined to their exposure, so each counts in its visitor's
 * cohort. An independent recount of `cohortSource` for audits and tests. One D1 round trip.
 */
export function rawRowsSource(db: D1Database): BanditCountsSource {
  return async function fromRawRows(config: BanditConfig): Promise<BucketCounts> {
    const bucketMs = config.every * 60_000
    const [exposed, converted] = await db.batch<Record<string, unknown>>([
      db
        .prepare(
          'SELECT CAST(exposed_at / ?2 AS INTEGER) AS b, variant, COUNT(*) AS n FROM exposures WHERE experiment = ?1 GROUP BY b, variant',
        )
        .bind(config.experiment, bucketMs),
      db
        .prepare(
          `SELECT CAST(e.exposed_at / ?2 AS INTEGER) AS b, e.variant AS variant, COUNT(*) AS n
           FROM conversions c JOIN exposures e ON e.experiment = c.experiment AND e.visitor = c.visitor
           WHERE c.experiment = ?1 AND c.goal = ?3 GROUP BY b, e.variant`,
        )
        .bind(config.experiment, bucketMs, config.goal),
    ])
    const buckets: BucketCounts = new Map()
    const cell = (b: unknown, variant: unknown): ArmCount => cellOf(buckets, num(b) * bucketMs, variant)
    for (const r of exposed?.results ?? []) cell(r.b, r.variant).visitors += num(r.n)
    for (const r of converted?.results ?? []) cell(r.b, r.variant).conversions += num(r.n)
    return buckets
  }
}
