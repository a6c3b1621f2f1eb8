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
