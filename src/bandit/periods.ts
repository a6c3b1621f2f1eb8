import type { BanditConfig } from './config'
import type { ArmCount, PeriodCounts } from './estimate'
import type { WeightedPeriod } from './srm'

/** One set of weights a bandit put in force (a row of `bandit_periods`). */
export interface PeriodWeights {
  from: number
  weights: Record<string, number>
  phase: 'burn-in' | 'adaptive'
  version: number
}

/** Counts by bucket of `every` minutes: bucket start (ms) → arm → counts. */
export type BucketCounts = Map<number, Map<string, ArmCount>>

/**
 * Where a bandit's statistics come from: per bucket of `every` minutes (by the time each visitor
 * was first exposed), per arm, the visitors and those of them who reached the bandit's goal.
 * Conversions count in their visitor's exposure bucket (a cohort), so a period's rate is the rate
 * of the visitors that period's weights assigned.
 */
export type BanditCountsSource = (config: BanditConfig) => Promise<BucketCounts>

/** Reads the history of weights from D1, oldest first. */
export async function readPeriodHistory(db: D1Database, experiment: string): Promise<PeriodWeights[]> {
  const { results } = await db
    .prepare('SELECT period_from, weights, phase, version FROM bandit_periods WHERE experiment = ?1 ORDER BY period_from')
    .bind(experiment)
    .all<Record<string, unknown>>()
  const out: PeriodWeights[] = []
  for (const r of results) {
    let weights: unknown
    try {
      weights = JSON.parse(String(r.weights))
    } catch {
      continue
    }
    if (typeof weights !== 'object' || weights === null || Array.isArray(weights)) continue
    const clean: Record<string, number> = {}
    for (const [k, v] of Object.entries(weights)) if (typeof v === 'number' && Number.isFinite(v) && v >= 0) clean[k] = v
    out.push({
      from: Number(r.period_from),
      weights: clean,
      phase: r.phase === 'adaptive' ? 'adaptive' : 'burn-in',
      version: Number(r.version),
    })
  }
  return out
}

/**
 * Groups buckets into periods, one per set of weights in force: buckets before the first stored
 * weights form a period of the configured split (what the Worker uses until the first update).
 * Periods without a visitor are left out.
 */
export function periodsOf(
  config: Pick<BanditConfig, 'split'>,
  history: readonly PeriodWeights[],
  buckets: BucketCounts,
): WeightedPeriod[] {
  const byFrom = new Map<number, WeightedPeriod>()
  const sorted = [...history].sort((a, b) => a.from - b.from)
  for (const [start, arms] of [...buckets.entries()].sort((a, b) => a[0] - b[0])) {
    let inForce: PeriodWeights | undefined
    for (const h of sorted) if (h.from <= start) inForce = h
    const from = inForce?.from ?? 0 // 0: before the first update
    let period = byFrom.get(from)
    if (period === undefined) {
      period = { counts: { from, arms: {} }, weights: inForce?.weights ?? { ...config.split } }
      byFrom.set(from, period)
    }
    const counts = period.counts.arms as Record<string, ArmCount>
    for (const [arm, c] of arms) {
      const into = counts[arm] ?? { visitors: 0, conversions: 0 }
      counts[arm] = { visitors: into.visitors + c.visitors, conversions: into.conversions + c.conversions }
    }
  }
  return [...byFrom.values()]
}

/** Just the counts of weighted periods. */
export function countsOf(periods: readonly WeightedPeriod[]): PeriodCounts[] {
  return periods.map((p) => p.counts)
}
