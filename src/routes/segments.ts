import { Hono } from 'hono'
import { requireAdmin } from '../admin/auth'
import { type ErrorCode, jsonError } from '../http/errors'
import type { Env } from '../env'
import { getRuleset } from '../rules/store'
import { readSegmentCounts } from '../segments/counts'
import { seededRandom } from '../segments/cluster'
import { discover, type DiscoverResult } from '../segments/discover'
import { SampleError } from '../segments/features'
import { findOpportunities, type OpportunityReport } from '../segments/opportunities'
import { readSample } from '../segments/sample'
import { backgroundRunner } from '../util/background'
import { logError } from '../util/log'

/** Rows one discovery in a request clusters at most (about a second or two of CPU for k = auto). */
export const MAX_DISCOVER_ROWS = 5000
const EXPERIMENT_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,99}$/
const GOAL_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/

export type DiscoverOutcome =
  | { ok: true; result: DiscoverResult }
  | { ok: false; status: 422 | 503; error: ErrorCode; details: string }

/** Discovery over the stored sample of the last `days` days (the dashboard and the API share it). */
export async function discoverFromDb(
  db: D1Database | undefined,
  opts: { k: number | 'auto'; days: number; assign: boolean },
): Promise<DiscoverOutcome> {
  if (db === undefined) return { ok: false, status: 503, error: 'no_db', details: 'no D1 database is bound as DB' }
  let sample: Awaited<ReturnType<typeof readSample>>
  try {
    sample = await readSample(db, opts.days)
  } catch (err) {
    logError('segments_sample_read_failed', err)
    return {
      ok: false,
      status: 503,
      error: 'sample_unavailable',
      details: 'the sample could not be read (are the migrations applied?)',
    }
  }
  // Bounded work per request: a seeded subsample of at most MAX_DISCOVER_ROWS stored rows.
  if (sample.rows.length > MAX_DISCOVER_ROWS) {
    const rand = seededRandom(1)
    const rows = [...sample.rows]
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      const t = rows[i] as number[]
      rows[i] = rows[j] as number[]
      rows[j] = t
    }
    sample = { features: sample.features, rows: rows.slice(0, MAX_DISCOVER_ROWS) }
  }
  try {
    return { ok: true, result: discover(sample, { k: opts.k, assign: opts.assign }) }
  } catch (err) {
    if (err instanceof SampleError) return { ok: false, status: 422, error: 'sample_unusable', details: err.message }
    throw err
  }
}

export type OpportunitiesOutcome =
  | { ok: true; report: OpportunityReport & { goals: string[] } }
  | { ok: false; status: 404 | 503; error: ErrorCode; details: string }

/** Per-segment results and opportunities of one experiment, from the daily statistics. */
export async function opportunitiesFromDb(
  db: D1Database | undefined,
  experiment: string,
  goal: string | undefined,
): Promise<OpportunitiesOutcome> {
  if (db === undefined) return { ok: false, status: 503, error: 'no_db', details: 'no D1 database is bound as DB' }
  let counts: Awaited<ReturnType<typeof readSegmentCounts>>
  try {
    counts = await readSegmentCounts(db, experiment, goal)
  } catch (err) {
    logError('segments_counts_read_failed', err)
    return {
      ok: false,
      status: 503,
      error: 'stats_unavailable',
      details: 'the per-segment statistics (stats_daily) could not be read; try again',
    }
  }
  const chosen = goal ?? counts.goals[0]
  if (Object.keys(counts.overall).length === 0 || chosen === undefined)
    return { ok: false, status: 404, error: 'no_data', details: `no exposures and conversions recorded for "${experiment}"` }
  const report = findOpportunities({ experiment, goal: chosen, overall: counts.overall, segments: counts.segments })
  return { ok: true, report: { ...report, goals: counts.goals } }
}

function parseK(raw: string | undefined): number | 'auto' | undefined {
  if (raw === undefined || raw === 'auto') return 'auto'
  return /^\d{1,2}$/.test(raw) && Number(raw) >= 1 ? Number(raw) : undefined
}

/**
 * Segment discovery API (admin, SPEC 15): `GET api/segments/discover?k=auto|N&days=7&assign=1`
 * and `GET api/opportunities/:experimentId?goal=<id>`. Errors are `{ error, details }`.
 */
export const segmentsApi = new Hono<{ Bindings: Env }>()
  .use('/api/segments/*', requireAdmin())
  .use('/api/opportunities/*', requireAdmin())
  .get('/api/segments/discover', async function discoverRoute(c) {
    c.header('cache-control', 'no-store')
    const k = parseK(c.req.query('k'))
    if (k === undefined) return jsonError(c, 400, 'invalid_k', 'k is "auto" or a whole number from 1 to 99')
    const daysRaw = c.req.query('days') ?? '7'
    if (!/^\d{1,3}$/.test(daysRaw) || Number(daysRaw) < 1 || Number(daysRaw) > 366)
      return jsonError(c, 400, 'invalid_days', 'days is a whole number from 1 to 366')
    const out = await discoverFromDb(c.env.DB, { k, days: Number(daysRaw), assign: c.req.query('assign') === '1' })
    if (!out.ok) return jsonError(c, out.status, out.error, out.details)
    return c.json(out.result)
  })
  .get('/api/opportunities/:experimentId', async function opportunitiesRoute(c) {
    c.header('cache-control', 'no-store')
    const id = c.req.param('experimentId')
    if (!EXPERIMENT_ID.test(id))
      return jsonError(c, 400, 'invalid_experiment_id', 'experiment ids are letters, digits, "_", "-", ".", ":" (at most 100)')
    const goal = c.req.query('goal')
    if (goal !== undefined && !GOAL_ID.test(goal)) return jsonError(c, 400, 'invalid_goal', 'not a goal id')
    const out = await opportunitiesFromDb(c.env.DB, id, goal)
    if (!out.ok) return jsonError(c, out.status, out.error, out.details)
    // Existing segments are named by the active ruleset; its conditions are shown for context.
    const lookup = await getRuleset(c.env.RULES, { budgetMs: 1_000, waitUntil: backgroundRunner(c) })
    const known = new Map((lookup.ruleset?.doc.segments ?? []).map((s) => [s.id, s.when]))
    return c.json({
      ...out.report,
      segments: out.report.segments.map((s) => ({ ...s, when: known.get(s.id) ?? null })),
    })
  })
