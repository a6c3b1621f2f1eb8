import type { Context } from '../context/types'
import type { Decision } from '../decide/types'
import type { Env } from '../env'
import type { CompiledRuleset } from '../rules/compile'
import { logError, logWarn } from '../util/log'
import { eventGoals, isQaDecision, pageViewEvents } from './events'
import { visitorHasher } from './hash'
import { sendEvents } from './queue'
import { writeEvents } from './store'
import type { MeasureEvent } from './types'

let warnedUnbound = false

/**
 * Where events go: the `EVENTS` queue when bound (its consumer writes to D1 in batches), else
 * straight to `DB`. Undefined when neither is bound (logged once).
 */
function sinkFor(env: Env): ((events: MeasureEvent[]) => Promise<void>) | undefined {
  const queue = env.EVENTS
  if (queue !== undefined) return (events) => sendEvents(queue, events)
  const db = env.DB
  if (db !== undefined) return (events) => writeEvents(db, events)
  if (!warnedUnbound) {
    warnedUnbound = true
    logWarn('measure_disabled_no_db', { hint: 'bind a D1 database as DB to record exposures and conversions' })
  }
  return undefined
}

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

/**
 * Records one page view now and resolves when it is stored (or queued). The awaited form of
 * `recordPageView`, for tests and callers with their own `waitUntil`. Never rejects.
 */
export async function measurePageView(
  env: Env,
  ruleset: CompiledRuleset,
  ctx: Context,
  decision: Decision,
  at: number = Date.now(),
): Promise<void> {
  try {
    if (!mayRecordPageView(ctx, decision)) return
    const sink = sinkFor(env)
    const hash = visitorHasher(env.VISITOR_SECRET)
    if (sink === undefined || hash === undefined) return
    const id = knownVisitor(ctx)
    const events = pageViewEvents(ruleset, ctx.request.path, decision, id === undefined ? undefined : await hash(id), at)
    if (events.length > 0) await sink(events)
  } catch (err) {
    logError('measure_page_view_failed', err, { queued: env.EVENTS !== undefined })
  }
}

/**
 * Records this page view's served variants (with analytics consent) and, for a visitor with an
 * id, its exposures and path goals, off the response path (`waitUntil`); never for QA decisions
 * or bots.
 * A D1 or queue failure is logged and never reaches the page.
 */
export function recordPageView(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  ruleset: CompiledRuleset,
  ctx: Context,
  decision: Decision,
): void {
  if (!mayRecordPageView(ctx, decision)) return // nothing to schedule: keep the hot path free
  waitUntil(measurePageView(env, ruleset, ctx, decision))
}

/** A visitor event from `POST /__veneer/events` (SPEC 7). */
export interface VisitorEvent {
  type: string
  goal?: string
  value?: number
}

/**
 * Records the conversions one visitor event reaches and resolves when stored (or queued).
 * The awaited form of `recordVisitorEvent`. Never rejects.
 */
export async function measureVisitorEvent(
  env: Env,
  ruleset: CompiledRuleset,
  visitorId: string,
  event: VisitorEvent,
  at: number = Date.now(),
): Promise<void> {
  try {
    if (typeof visitorId !== 'string' || visitorId === '') return
    const goals = eventGoals(ruleset, [event.type, event.goal])
    if (goals.length === 0) return
    const sink = sinkFor(env)
    const hash = visitorHasher(env.VISITOR_SECRET)
    if (sink === undefined || hash === undefined) return
    const visitor = await hash(visitorId)
    const value = typeof event.value === 'number' && Number.isFinite(event.value) ? event.value : undefined
    await sink(
      goals.map(
        (goal): MeasureEvent =>
          value === undefined ? { kind: 'conversion', visitor, goal, at } : { kind: 'conversion', visitor, goal, at, value },
      ),
    )
  } catch (err) {
    logError('measure_event_failed', err, { queued: env.EVENTS !== undefined })
  }
}

/**
 * Records the conversions a visitor event reaches (event goals: a goal whose `event` is the
 * event's `type` or `goal`, or whose id is), with `waitUntil`. The caller (the events endpoint)
 * calls it only with analytics consent; `visitorId` is the raw id from `veneer_visitor`, hashed
 * here before anything is stored. A conversion counts for the experiments the visitor was
 * exposed to at or before it.
 */
export function recordVisitorEvent(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  ruleset: CompiledRuleset,
  visitorId: string,
  event: VisitorEvent,
): void {
  waitUntil(measureVisitorEvent(env, ruleset, visitorId, event))
}
