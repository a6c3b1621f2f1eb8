import type { Context } from '../context/types'
import type { Decision } from '../decide/types'
import type { Env } from '../env'
import type { CompiledRuleset } from '../rules/compile'

/**
 * SEAM (issue 5, measurement): records this page view's exposures and path goals, off the
 * response path (`waitUntil`), only with analytics consent and never for QA requests.
 * Nothing is recorded until that layer lands.
 */
export function recordPageView(
  _env: Env,
  _waitUntil: (p: Promise<unknown>) => void,
  _ruleset: CompiledRuleset,
  _ctx: Context,
  _decision: Decision,
): void {}

/** A visitor event from `POST /__veneer/events` (SPEC 7). */
export interface VisitorEvent {
  type: string
  goal?: string
  value?: number
}

/**
 * SEAM (issue 5): records the conversions a visitor event reaches (event goals), with
 * `waitUntil`, only with analytics consent. `visitorId` is the raw id from `veneer_visitor`;
 * the measurement layer hashes it before storing. Nothing is recorded until that layer lands.
 */
export function recordVisitorEvent(
  _env: Env,
  _waitUntil: (p: Promise<unknown>) => void,
  _ruleset: CompiledRuleset,
  _visitorId: string,
  _event: VisitorEvent,
): void {}
