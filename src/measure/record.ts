import { contextInstant } from '../context/build'
import { banditRowsOf } from '../bandit/record'
import { banditKind } from '../bandit/row'
import type { Context, VisitorState } from '../context/types'
import type { Decision } from '../decide/types'
import type { Env } from '../env'
import { identityOf } from '../identity/state'
import type { VisitorRecord } from '../identity/visitor-token'
import type { CompiledRuleset } from '../rules/compile'
import { logError } from '../util/log'
import { aggregateEvent, aggregateMany, measurementBound } from './aggregate'
import { eventGoals, isQaDecision, pathGoals } from './events'
import { visitorHasher } from './hash'
import './kinds'
import type { RawRow } from './raw-row'
import { rawKind } from './raw-row'
import type { ServedRow } from './served-row'
import { servedKind } from './served-row'
import { EXPOSURE_GOAL, type StatsRow, statsKind } from './stats-row'
import { utcDay } from './store'
import { conversionsOf, exposuresOf, type VisitorMeasure } from './visit'

/**
 * Whether this page view may be recorded at all (SPEC 5, 6, 9): analytics consent, not a bot,
 * not a QA decision, and something to record (a placement, or a visitor who may reach a goal).
 */
export function mayRecordPageView(ctx: Context, decision: Decision): boolean {
  return (
    ctx.consent.analytics &&
    !ctx.device.isBot &&
    !isQaDecision(decision) &&
    (decision.placements.length > 0 || knownVisitor(ctx) !== undefined)
  )
}

/** The visitor id, when the context carries one (personalization consent and `veneer_visitor`). */
function knownVisitor(ctx: Context): string | undefined {
  const id = ctx.visitor?.id
  return typeof id === 'string' && id !== '' ? id : undefined
}

/** The measurement view of a visitor record: its page views so far and its (mutable) memory. */
export function visitorMeasure(record: VisitorRecord): VisitorMeasure {
  if (record.memos === undefined) record.memos = []
  return { pageViews: record.behavior.pageViews, memos: record.memos }
}

/** The served counters of one page view: one per placement (QA overrides excluded). */
export function servedRows(decision: Decision, at: number): ServedRow[] {
  const day = utcDay(at)
  const rows: ServedRow[] = []
  for (const p of decision.placements) {
    const source = p.reason.kind
    if (source === 'override') continue
    rows.push({ day, placement: p.placement, variant: p.variant, source, count: 1 })
  }
  return rows
}

/**
 * What one page view adds (SPEC 12), updating the visitor's measurement memory in `record`:
 * the served counters; exposures of experiments the visitor was not yet counted in; path goals.
 * Call it BEFORE the cookie is written, so the cookie remembers what was counted.
 */
export function pageViewRows(
  ruleset: CompiledRuleset,
  ctx: Context,
  decision: Decision,
  record: VisitorRecord | undefined,
  at: number,
): { served: ServedRow[]; stats: StatsRow[] } {
  const served = servedRows(decision, at)
  if (record === undefined || knownVisitor(ctx) === undefined) return { served, stats: [] }
  const v = visitorMeasure(record)
  const stats = [
    ...exposuresOf(ruleset, decision, v, at),
    ...conversionsOf(v, pathGoals(ruleset, ctx.request.path), undefined, at),
  ]
  return { served, stats }
}

/**
 * Records one page view (SPEC 9, 12): with analytics consent, never for QA decisions or bots.
 * The counts go into this isolate's aggregator (no D1 statement, no queue message of their
 * own); `state` is the visitor state whose `veneer_visitor` record is about to be written, and
 * its measurement memory is updated here, so call this before `visitorCookies`. Never throws.
 */
export function recordPageView(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  ruleset: CompiledRuleset,
  ctx: Context,
  decision: Decision,
  state?: VisitorState,
): void {
  try {
    if (!mayRecordPageView(ctx, decision)) return // nothing to do: keep the hot path free
    // Nothing could store the rows: the visitor's measurement memory is left as it was too, so
    // once `DB` or `EVENTS` is bound their exposures and conversions are counted then.
    if (!measurementBound(env)) return
    const record = state === undefined ? undefined : identityOf(state)?.record
    const at = contextInstant(ctx) // the context's clock (an injected one in tests) decides the day
    const { served, stats } = pageViewRows(ruleset, ctx, decision, record, at)
    aggregateEvent(env, waitUntil, [
      { kind: servedKind, rows: served },
      { kind: statsKind, rows: stats },
      { kind: banditKind, rows: banditRowsOf(ruleset, stats, record?.memos ?? []) },
    ])
    const id = knownVisitor(ctx)
    if (ruleset.settings.measurement.rawEvents && id !== undefined && stats.length > 0) {
      const placement = decision.placements[0]?.placement ?? ''
      waitUntil(recordRaw(env, waitUntil, id, stats, placement, at))
    }
  } catch (err) {
    logError('measure_page_view_failed', err)
  }
}

/** Raw audit rows for the '*'-segment stats rows of one event (settings.measurement.rawEvents). */
async function recordRaw(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  visitorId: string,
  stats: readonly StatsRow[],
  placement: string,
  at: number,
): Promise<void> {
  try {
    const hash = visitorHasher(env.VISITOR_SECRET)
    if (hash === undefined) return
    const visitor = await hash(visitorId)
    const rows: RawRow[] = []
    for (const r of stats) {
      if (r.segment !== '*') continue
      if (r.goal === EXPOSURE_GOAL)
        rows.push({ table: 'exposures', visitor, experiment: r.experiment, arm: r.arm, placement, at })
      else if (r.conversions > 0)
        rows.push({ table: 'conversions', visitor, experiment: r.experiment, arm: r.arm, goal: r.goal, at, value: r.sumValue })
    }
    aggregateMany(env, waitUntil, rawKind, rows)
  } catch (err) {
    logError('measure_raw_failed', err)
  }
}

/** A visitor event from `POST /__veneer/events` (SPEC 7). */
export interface VisitorEvent {
  type: string
  goal?: string
  value?: number
}

/**
 * Records the conversions a visitor event reaches (event goals: a goal whose `event` is the
 * event's `type` or `goal`, or whose id is) for every experiment the visitor was counted in,
 * once per visitor, goal and experiment (value totals grow each time). The caller (the events
 * endpoint) calls it only with analytics consent, BEFORE writing the cookie, whose measurement
 * memory is updated here. Never throws.
 */
export function recordVisitorEvent(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  ruleset: CompiledRuleset,
  record: VisitorRecord,
  event: VisitorEvent,
  at: number = Date.now(),
): void {
  try {
    const goals = eventGoals(ruleset, [event.type, event.goal])
    if (goals.length === 0 || !measurementBound(env)) return // as for page views
    const stats = conversionsOf(visitorMeasure(record), goals, event.value, at)
    aggregateEvent(env, waitUntil, [
      { kind: statsKind, rows: stats },
      { kind: banditKind, rows: banditRowsOf(ruleset, stats, record.memos ?? []) },
    ])
    if (ruleset.settings.measurement.rawEvents && stats.length > 0) waitUntil(recordRaw(env, waitUntil, record.id, stats, '', at))
  } catch (err) {
    logError('measure_event_failed', err)
  }
}
