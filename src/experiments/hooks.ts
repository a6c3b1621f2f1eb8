import type { Context, VisitorState } from '../context/types'
import type { DecideHooks } from '../decide/types'
import type { CompiledRuleset } from '../rules/compile'

/**
 * SEAM (issue 4, experiments and holdout): the assignment and holdout hooks `decide` calls.
 * Until that layer lands, experiments show `control` and nobody is held out.
 */
export function experimentHooks(_ruleset: CompiledRuleset, _ctx: Context, _state: VisitorState, _at: Date): DecideHooks {
  return {}
}
