import type { BanditConfig } from './config'
import type { ArmCount } from './estimate'
import type { BanditCountsSource, BucketCounts } from './periods'

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)

/**
 * Bandit counts from the per-visitor measurement rows (`exposures`, `conversions`, migration
 * 0001): visitors by the bucket of their exposure time, and conversions to the bandit's goal
 * joined to their exposure, so each counts in its visitor's cohort. One D1 round trip.
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
    const cell = (b: unknown, variant: unknown): ArmCount => {
      const start = num(b) * bucketMs
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
    for (const r of exposed?.results ?? []) cell(r.b, r.variant).visitors += num(r.n)
    for (const r of converted?.results ?? []) cell(r.b, r.variant).conversions += num(r.n)
    return buckets
  }
}
