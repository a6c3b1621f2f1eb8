import { Hono } from 'hono'
import { requireAdmin } from '../admin/auth'
import { type ErrorCode, jsonError } from '../http/errors'
import { experimentIdParam } from '../http/params'
import type { Env } from '../env'
import { getRuleset } from '../rules/store'
import { Condition, type ConditionDoc } from '../rules/schema'
import { readSegmentCounts } from '../segments/counts'
import { discover, type DiscoverResult, REQUEST_DISCOVERY } from '../segments/discover'
import { SampleError } from '../segments/features'
import { type LatestDiscovery, readLatestDiscovery, writeLatestDiscovery } from '../segments/latest'
import { findOpportunities, type OpportunityReport } from '../segments/opportunities'
import { compileProposed, ProposedError, type ProposedSegment, proposedCounts, readExposedSample } from '../segments/proposed'
import { readSample } from '../segments/sample'
import { backgroundRunner } from '../util/background'
import { logError } from '../util/log'

/** Days of sample a discovery or a proposed segment's estimate reads by default. */
export const DEFAULT_DAYS = 7
/** Conditions passed in (`when=`) per opportunities request at most, and their JSON length. */
const MAX_WHEN = 4
const MAX_WHEN_CHARS = 4096
const GOAL_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/

export type DiscoverOutcome =
  | { ok: true; result: DiscoverResult }
  | { ok: false; status: 422 | 503; error: ErrorCode; details: string }

/**
 * Discovery over the stored sample of the last `days` days (the dashboard, the API and the
 * scheduled job share it), with the bounded settings of REQUEST_DISCOVERY: a seeded subsample of
 * 1,000 rows, so the work per call is fixed whatever the sample's size (docs/segments.md).
 */
export async function discoverFromDb(
  db: D1Database | undefined,
  opts: { k: number | 'auto'; days: number; assign: boolean; now?: number },
): Promise<DiscoverOutcome> {
  if (db === undefined) return { ok: false, status: 503, error: 'no_db', details: 'no D1 database is bound as DB' }
  let sample: Awaited<ReturnType<typeof readSample>>
  try {
    sample = await readSample(db, opts.days, opts.now, REQUEST_DISCOVERY.maxRows)
  } catch (err) {
    logError('segments_sample_read_failed', err)
    return {
      ok: false,
      status: 503,
      error: 'sample_unavailable',
      details: 'the sample could not be read (are the migrations applied?)',
    }
  }
  try {
    const result = discover(sample, { k: opts.k, assign: opts.assign, asOf: opts.now, ...REQUEST_DISCOVERY })
    // D1 chose the subsample (the lowest slots of each day): say how many rows the days hold.
    return { ok: true, result: sample.total > result.rows ? { ...result, sampledFrom: sample.total } : result }
  } catch (err) {
    if (err instanceof SampleError) return { ok: false, status: 422, error: 'sample_unusable', details: err.message }
    throw err
  }
}

/** A discovery with k = auto over the stored sample, stored as the latest (`segments:latest`). */
export async function discoverAndStore(env: Env, days: number, now: number): Promise<DiscoverOutcome> {
  const out = await discoverFromDb(env.DB, { k: 'auto', days, assign: false, now })
  if (out.ok) await writeLatestDiscovery(env, days, out.result, now)
  return out
}

/** The scheduled job (src/jobs.ts, daily cron): the latest discovery, so views need no clustering. */
export async function scheduledDiscovery(env: Env, now: number): Promise<void> {
  try {
    const out = await discoverAndStore(env, DEFAULT_DAYS, now)
    if (!out.ok && out.error !== 'sample_unusable' && out.error !== 'no_db')
      logError('segments_discovery_failed', new Error(out.details))
  } catch (err) {
    logError('segments_discovery_failed', err)
  }
}

/** The proposed segments of the latest discovery: one per cluster with a condition, `cluster-<id>`. */
export function proposedFromLatest(latest: LatestDiscovery | undefined): ProposedSegment[] {
  if (latest === undefined) return []
  return latest.result.clusters.flatMap((c) => {
    if (c.when === null) return []
    const p = { id: `cluster-${c.id}`, when: c.when }
    try {
      compileProposed(p)
      return [p]
    } catch {
      return [] // a stored condition that no longer compiles is left out, not an error of the request
    }
  })
}

export type OpportunitiesOutcome =
  | { ok: true; report: OpportunityReport & { goals: string[]; proposed: ProposedInfo } }
  | { ok: false; status: 400 | 404 | 503; error: ErrorCode; details: string }

/** Where the proposed segments of a report come from, and how many sampled visitors they rest on. */
export interface ProposedInfo {
  /** The latest discovery's time, when its clusters are listed. */
  discoveredAt: string | null
  /** Days of sample the estimates read. */
  days: number
  /** Sampled visitors exposed to the experiment (all arms). */
  sampleRows: number
  /** Why proposed segments are missing, when they are. */
  note?: string
}

/**
 * Per-segment results and opportunities of one experiment: existing segments from the daily
 * statistics (counted at exposure), proposed ones estimated on the sample (`basis: "sample"`),
 * with Benjamini–Hochberg across all of them.
 */
export async function opportunitiesFromDb(
  db: D1Database | undefined,
  experiment: string,
  goal: string | undefined,
  proposed: { segments: ProposedSegment[]; discoveredAt: string | null; days: number; now?: number } = {
    segments: [],
    discoveredAt: null,
    days: DEFAULT_DAYS,
  },
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
  let sampled: ReturnType<typeof proposedCounts> = { overall: {}, segments: [] }
  const info: ProposedInfo = { discoveredAt: proposed.discoveredAt, days: proposed.days, sampleRows: 0 }
  if (proposed.segments.length > 0) {
    try {
      const rows = await readExposedSample(db, experiment, proposed.days, proposed.now)
      sampled = proposedCounts(rows, chosen, proposed.segments)
      info.sampleRows = rows.length
      if (rows.length === 0) info.note = `no sampled visitor exposed to "${experiment}" in the last ${proposed.days} days`
    } catch (err) {
      if (err instanceof ProposedError) return { ok: false, status: 400, error: 'invalid_condition', details: err.message }
      logError('segments_proposed_read_failed', err)
      info.note = 'the sample could not be read (are the migrations applied?)'
    }
  } else info.note = 'no proposed segments: run a discovery, or pass a condition as when='
  const report = findOpportunities({
    experiment,
    goal: chosen,
    overall: counts.overall,
    segments: [...counts.segments, ...(info.sampleRows > 0 ? sampled.segments : [])],
  })
  return { ok: true, report: { ...report, goals: counts.goals, proposed: info } }
}

/**
 * Conditions passed in as `when=<JSON condition>` (at most MAX_WHEN), named `when-1`, `when-2`…;
 * a string is an error message.
 */
export function parseWhenParams(raw: readonly string[]): ProposedSegment[] | string {
  if (raw.length > MAX_WHEN) return `at most ${MAX_WHEN} when= conditions`
  const out: ProposedSegment[] = []
  for (const [i, text] of raw.entries()) {
    const id = `when-${i + 1}`
    if (text.length > MAX_WHEN_CHARS) return `${id}: longer than ${MAX_WHEN_CHARS} characters`
    let v: unknown
    try {
      v = JSON.parse(text)
    } catch {
      return `${id}: not JSON`
    }
    const parsed = Condition.safeParse(v)
    if (!parsed.success) return `${id}: not a condition (SPEC 4.2)`
    const p = { id, when: parsed.data as ConditionDoc }
    try {
      compileProposed(p)
    } catch (err) {
      return err instanceof Error ? err.message : String(err)
    }
    out.push(p)
  }
  return out
}

/** Reads `days` (1–366, default 7); undefined when malformed. */
export function parseDays(raw: string | undefined): number | undefined {
  const text = raw ?? String(DEFAULT_DAYS)
  return /^\d{1,3}$/.test(text) && Number(text) >= 1 && Number(text) <= 366 ? Number(text) : undefined
}

function parseK(raw: string | undefined): number | 'auto' | undefined {
  if (raw === undefined || raw === 'auto') return 'auto'
  return /^\d{1,2}$/.test(raw) && Number(raw) >= 1 ? Number(raw) : undefined
}

/**
 * Segment discovery API (admin, SPEC 15): `GET api/segments/discover?k=auto|N&days=7&assign=1`
 * (bounded: REQUEST_DISCOVERY) and `GET api/opportunities/:experimentId?goal=<id>&days=7&when=<condition>`
 * (existing segments counted at exposure; proposed ones, the latest discovery's clusters unless
 * `discovered=0` and each `when`, estimated on the sample). Errors are `{ error, details }`.
 */
export const segmentsApi = new Hono<{ Bindings: Env }>()
  .use('/api/segments/*', requireAdmin())
  .use('/api/opportunities/*', requireAdmin())
  .get('/api/segments/discover', async function discoverRoute(c) {
    c.header('cache-control', 'no-store')
    const k = parseK(c.req.query('k'))
    if (k === undefined) return jsonError(c, 400, 'invalid_k', 'k is "auto" or a whole number from 1 to 99')
    const days = parseDays(c.req.query('days'))
    if (days === undefined) return jsonError(c, 400, 'invalid_days', 'days is a whole number from 1 to 366')
    const now = Date.now()
    const out = await discoverFromDb(c.env.DB, { k, days, assign: c.req.query('assign') === '1', now })
    if (!out.ok) return jsonError(c, out.status, out.error, out.details)
    // k = auto over the stored sample is the latest discovery (its clusters are the proposed segments).
    if (k === 'auto') backgroundRunner(c)(writeLatestDiscovery(c.env, days, out.result, now))
    return c.json(out.result)
  })
  .get('/api/segments/sample', async function sampleRoute(c) {
    // The stored sample itself (no ids), for `veneer segments discover --remote`, which clusters
    // it on the operator's machine with the command line's full settings.
    c.header('cache-control', 'no-store')
    const days = parseDays(c.req.query('days'))
    if (days === undefined) return jsonError(c, 400, 'invalid_days', 'days is a whole number from 1 to 366')
    const db = c.env.DB
    if (db === undefined) return jsonError(c, 503, 'no_db', 'no D1 database is bound as DB')
    try {
      const sample = await readSample(db, days)
      return c.json({ days, features: sample.features.map((f) => f.name), rows: sample.rows })
    } catch (err) {
      logError('segments_sample_read_failed', err)
      return jsonError(c, 503, 'sample_unavailable', 'the sample could not be read (are the migrations applied?)')
    }
  })
  .get('/api/opportunities/:experimentId', async function opportunitiesRoute(c) {
    c.header('cache-control', 'no-store')
    const id = experimentIdParam(c)
    if (id instanceof Response) return id
    const goal = c.req.query('goal')
    if (goal !== undefined && !GOAL_ID.test(goal)) return jsonError(c, 400, 'invalid_goal', 'not a goal id')
    const days = parseDays(c.req.query('days'))
    if (days === undefined) return jsonError(c, 400, 'invalid_days', 'days is a whole number from 1 to 366')
    const passed = parseWhenParams(c.req.queries('when') ?? [])
    if (typeof passed === 'string') return jsonError(c, 400, 'invalid_condition', passed)
    const latest = c.req.query('discovered') === '0' ? undefined : await readLatestDiscovery(c.env.RULES)
    const out = await opportunitiesFromDb(c.env.DB, id, goal, {
      segments: [...proposedFromLatest(latest), ...passed],
      discoveredAt: latest?.at ?? null,
      days,
    })
    if (!out.ok) return jsonError(c, out.status, out.error, out.details)
    // Existing segments are named by the active ruleset; its conditions are shown for context.
    const lookup = await getRuleset(c.env.RULES, { budgetMs: 1_000, waitUntil: backgroundRunner(c) })
    const known = new Map((lookup.ruleset?.doc.segments ?? []).map((s) => [s.id, s.when]))
    const proposedWhen = new Map([...proposedFromLatest(latest), ...passed].map((p) => [p.id, p.when]))
    return c.json({
      ...out.report,
      segments: out.report.segments.map((s) => ({
        ...s,
        when: s.source === 'proposed' ? (proposedWhen.get(s.id) ?? null) : (known.get(s.id) ?? null),
      })),
    })
  })
