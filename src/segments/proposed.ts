import { compileCondition } from '../rules/conditions'
import type { RulesetIssue } from '../rules/errors'
import type { ConditionDoc } from '../rules/schema'
import { rowContext } from './features'
import type { ArmCounts, SegmentCounts } from './opportunities'
import { MAX_READ_ROWS, parseExposures, type SampleExposure, type SampleRow, sampleFromRows } from './sample'

/**
 * Per-arm results of proposed (unpublished) segments, estimated on the daily sample (SPEC 15,
 * issue 14). `stats_daily` counts only the segments a visitor matched at exposure, i.e. published
 * ones; a discovered segment has no counts there until it is published. Each sample row carries
 * the visitor's running experiments, arm and goals converted on (src/segments/sample.ts), so a
 * proposed condition evaluated on the rows gives per-arm counts of sampled visitors.
 *
 * These are estimates on a sample, not counts at exposure (docs/segments.md "Proposed segments"):
 * at most SAMPLE_DAILY_CAP rows a day; a visitor sampled before converting counts as not
 * converted (rates are lower than the true ones, in every arm alike unless the arms change when
 * people convert); a returning visitor may be sampled on several days; the features are those at
 * sampling time, after exposure, so a condition on what the experiment changes (purchases, when
 * the goal is a purchase) compares unlike visitors. Every result built here says `basis: "sample"`.
 */

/** A proposed segment: a name for the report and the condition to evaluate. */
export interface ProposedSegment {
  id: string
  when: ConditionDoc
}

/** One sampled visitor exposed to the experiment: features, the sampling day, arm and goals. */
export interface ExposedRow {
  day: string
  row: SampleRow
  arm: string
  goals: string[]
}

/** Attributes a sample row holds, so a condition on anything else cannot be evaluated on it. */
const SAMPLED = [
  /^behavior\.(pageViews|cartAdds|purchases)$/,
  /^behavior\.views\.[^.]+$/,
  /^visitor\.(sessions|firstSeen)$/,
  /^device\.type$/,
  /^geo\.continent$/,
]

/** The attributes a condition reads that the sample does not record (empty: it can be evaluated). */
export function unsampledAttributes(when: ConditionDoc): string[] {
  const out = new Set<string>()
  const walk = (c: unknown): void => {
    if (typeof c !== 'object' || c === null) return
    for (const [k, v] of Object.entries(c)) {
      if (k === '$and' || k === '$or') {
        if (Array.isArray(v)) for (const sub of v) walk(sub)
      } else if (k === '$not') walk(v)
      else if (!SAMPLED.some((re) => re.test(k))) out.add(k)
    }
  }
  walk(when)
  return [...out].sort()
}

export class ProposedError extends Error {
  override name = 'ProposedError'
}

/** Compiles a proposed condition, refusing what does not compile or reads unsampled attributes. */
export function compileProposed(p: ProposedSegment): (ctx: Record<string, unknown>) => boolean {
  const issues: RulesetIssue[] = []
  const pred = compileCondition(p.when, 'when', issues)
  if (issues.length > 0) throw new ProposedError(`${p.id}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`)
  const missing = unsampledAttributes(p.when)
  if (missing.length > 0)
    throw new ProposedError(
      `${p.id}: the sample does not record ${missing.join(', ')}; a condition on it cannot be estimated on the sample (publish it as a segment to count it at exposure)`,
    )
  return pred
}

/**
 * Sampled visitors one estimate reads at most: the work of a request is rows × proposed segments
 * condition evaluations, so it is capped (10 full days of the sample).
 */
export const MAX_PROPOSED_ROWS = 20_000

/**
 * The sampled visitors of the last `days` UTC days that were exposed to `experiment`: at most
 * `limit`, the lowest slots of every day (slots are random, so a uniform subsample spread over
 * the days, as `readSample` does).
 */
export async function readExposedSample(
  db: D1Database,
  experiment: string,
  days: number,
  now: number = Date.now(),
  limit: number = MAX_PROPOSED_ROWS,
): Promise<ExposedRow[]> {
  const from = new Date(now - (days - 1) * 86_400_000).toISOString().slice(0, 10)
  const { results } = await db
    .prepare(
      `SELECT day, row, exposures FROM segment_sample
       WHERE day >= ?1 AND EXISTS (SELECT 1 FROM json_each(segment_sample.exposures) WHERE json_extract(value, '$[0]') = ?2)
       ORDER BY slot, day LIMIT ?3`,
    )
    .bind(from, experiment, Math.min(limit, MAX_READ_ROWS))
    .all<{ day: unknown; row: unknown; exposures: unknown }>()
  const out: ExposedRow[] = []
  for (const r of results) {
    if (typeof r.day !== 'string' || typeof r.row !== 'string' || typeof r.exposures !== 'string') continue
    try {
      const row: unknown = JSON.parse(r.row)
      const exposures = parseExposures(JSON.parse(r.exposures))
      if (typeof row !== 'object' || row === null || Array.isArray(row) || exposures === undefined) continue
      const e = exposures.find((x: SampleExposure) => x[0] === experiment)
      if (e !== undefined) out.push({ day: r.day, row: row as SampleRow, arm: e[1], goals: e[2] })
    } catch {
      // A row that does not parse is skipped: the sample is best effort.
    }
  }
  return out
}

/** Per-arm counts on the sample: everyone exposed, and each proposed segment's members. */
export interface ProposedCounts {
  /** All sampled visitors exposed to the experiment, by arm. */
  overall: Record<string, ArmCounts>
  segments: SegmentCounts[]
}

/**
 * Evaluates each proposed condition on each exposed row (with Veneer's own evaluator, on the
 * context the row stands for as of its sampling day) and counts visitors and conversions on
 * `goal` per arm. Work: rows × segments condition evaluations.
 */
export function proposedCounts(rows: readonly ExposedRow[], goal: string, proposed: readonly ProposedSegment[]): ProposedCounts {
  const preds = proposed.map(compileProposed)
  const sample = sampleFromRows(rows.map((r) => r.row))
  const overall: Record<string, ArmCounts> = {}
  const per = proposed.map(() => ({}) as Record<string, ArmCounts>)
  const add = (arms: Record<string, ArmCounts>, arm: string, converted: boolean) => {
    const a = arms[arm] ?? { visitors: 0, conversions: 0 }
    a.visitors++
    if (converted) a.conversions++
    arms[arm] = a
  }
  rows.forEach((r, i) => {
    const converted = r.goals.includes(goal)
    add(overall, r.arm, converted)
    const ctx = rowContext(sample.features, sample.rows[i] as number[], Date.parse(`${r.day}T12:00:00Z`))
    preds.forEach((pred, s) => {
      if (pred(ctx)) add(per[s] as Record<string, ArmCounts>, r.arm, converted)
    })
  })
  // Every arm seen overall is listed in each segment, so an arm nobody in it got shows as 0.
  for (const arms of per) for (const arm of Object.keys(overall)) arms[arm] ??= { visitors: 0, conversions: 0 }
  return {
    overall,
    segments: proposed.map((p, s) => ({
      id: p.id,
      source: 'proposed',
      basis: 'sample',
      when: p.when,
      arms: per[s] as Record<string, ArmCounts>,
      sampleTotal: Object.values(overall).reduce((t, a) => t + a.visitors, 0),
    })),
  }
}
