import type { ArmCounts, SegmentCounts } from './opportunities'

/**
 * Per-segment arm counts of one experiment and goal, from the daily statistics (SPEC 12,
 * migration 0002 `stats_daily`): visitors from the exposure rows (`goal = ''`), conversions from
 * the goal's rows; `segment = '*'` is everyone, any other value a ruleset segment the visitor
 * matched at exposure.
 */
export interface ExperimentSegmentCounts {
  overall: Record<string, ArmCounts>
  segments: SegmentCounts[]
  /** Goals with rows for this experiment, in id order. */
  goals: string[]
}

export async function readSegmentCounts(
  db: D1Database,
  experiment: string,
  goal: string | undefined,
): Promise<ExperimentSegmentCounts> {
  const { results } = await db
    .prepare(
      `SELECT segment, arm, goal, SUM(visitors) AS visitors, SUM(conversions) AS conversions
       FROM stats_daily WHERE experiment = ?1 GROUP BY segment, arm, goal`,
    )
    .bind(experiment)
    .all<{ segment: unknown; arm: unknown; goal: unknown; visitors: unknown; conversions: unknown }>()
  const goals = new Set<string>()
  for (const r of results) if (typeof r.goal === 'string' && r.goal !== '') goals.add(r.goal)
  const chosen = goal ?? [...goals].sort()[0]
  const bySegment = new Map<string, Record<string, ArmCounts>>()
  for (const r of results) {
    if (typeof r.segment !== 'string' || typeof r.arm !== 'string' || typeof r.goal !== 'string') continue
    const arms = bySegment.get(r.segment) ?? {}
    const a = arms[r.arm] ?? { visitors: 0, conversions: 0 }
    if (r.goal === '') a.visitors += Number(r.visitors) || 0
    else if (r.goal === chosen) a.conversions += Number(r.conversions) || 0
    arms[r.arm] = a
    bySegment.set(r.segment, arms)
  }
  const overall = bySegment.get('*') ?? {}
  const segments: SegmentCounts[] = [...bySegment]
    .filter(([id]) => id !== '*')
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([id, arms]) => ({ id, source: 'existing', arms }))
  return { overall, segments, goals: [...goals].sort() }
}
