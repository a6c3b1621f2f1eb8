import type { Context, VisitorState } from '../context/types'
import type { DecideHooks, ExperimentOutcome } from '../decide/types'
import { CONTROL, type CompiledPlacement, type CompiledRuleset } from '../rules/compile'
import type { ExperimentDoc } from '../rules/schema'
import { pickArm, windowState } from './bucket'
import { HOLDOUT_ID, unitHash } from './hash'
import { layerIndex, type LayerMember } from './layers'

/** Whether a visitor falls in the global holdout: `holdout:global:<id>` below `percent`/100. */
export function inHoldout(percent: number, visitorId: string): boolean {
  return percent > 0 && unitHash('holdout', HOLDOUT_ID, visitorId) < percent / 100
}

/**
 * The sticky arm from `veneer_visitor`, if it can still be honored: the arm is still a key of
 * the split (any weight, so weight changes keep people where they are) and still a variant of
 * the placement (or `control`). A removed arm yields undefined: the visitor is bucketed afresh.
 */
function stickyArm(
  exp: ExperimentDoc,
  placement: CompiledPlacement,
  assignments: Readonly<Record<string, string>>,
): string | undefined {
  if (!Object.hasOwn(assignments, exp.id)) return undefined
  const arm = assignments[exp.id]
  if (arm === undefined || !Object.hasOwn(exp.split, arm)) return undefined
  return arm === CONTROL || placement.variants.has(arm) ? arm : undefined
}

/**
 * SPEC 4.4: the assignment and holdout hooks `decide` calls, for one request.
 *
 * - No personalization consent or no visitor id: never bucketed, `control` (experiment-skipped).
 * - Holdout: `settings.holdoutPercent` of consenting visitors, by hash, see `control` everywhere.
 * - Outside `start`/`end`, outside `traffic`, or in another experiment of the same `layer`: the
 *   experiment does not take the visitor and the next rule decides (fallThrough).
 * - Otherwise the sticky assignment if it is still valid, else a fresh bucket from the hash.
 *
 * `ctx` is the (possibly QA-simulated) context the rules see; entry depends only on `state`.
 */
export function experimentHooks(ruleset: CompiledRuleset, _ctx: Context, state: VisitorState, at: Date): DecideHooks {
  const visitorId = state.consent.personalization ? state.visitor?.id : undefined
  if (visitorId === undefined || visitorId === '') {
    const why = state.consent.personalization ? 'no visitor id' : 'no personalization consent'
    return { assign: () => ({ enter: false, why }) }
  }
  const assignments = state.assignments ?? {}
  const layers = layerIndex(ruleset)
  const layerPicks = new Map<string, string | undefined>()

  /** The one experiment of a layer this visitor may enter: a still-valid sticky one first, else by hash. */
  const layerPick = (layer: string): string | undefined => {
    if (layerPicks.has(layer)) return layerPicks.get(layer)
    const members: readonly LayerMember[] = layers.get(layer) ?? []
    let pick = members.find(
      (m) => windowState(m.experiment, at) === 'running' && stickyArm(m.experiment, m.placement, assignments) !== undefined,
    )?.experiment.id
    if (pick === undefined && members.length > 0) {
      const slice = Math.min(members.length - 1, Math.floor(unitHash('layer', layer, visitorId) * members.length))
      pick = members[slice]?.experiment.id
    }
    layerPicks.set(layer, pick)
    return pick
  }

  const assign = (exp: ExperimentDoc, placement: CompiledPlacement): ExperimentOutcome => {
    // A stopped experiment (SPEC 12.2, a guardrail or by hand) shows everyone the control.
    if (exp.stopped !== undefined) return { enter: false, why: 'experiment stopped' }
    const window = windowState(exp, at)
    if (window !== 'running') return { enter: false, why: `experiment ${window}`, fallThrough: true }
    const layer = exp.layer
    if (layer !== undefined && layerPick(layer) !== exp.id) {
      return { enter: false, why: `in another experiment of layer "${layer}"`, fallThrough: true }
    }
    const bucket = unitHash('assign', exp.id, visitorId)
    const sticky = stickyArm(exp, placement, assignments)
    if (sticky !== undefined) return { enter: true, variant: sticky, bucket, sticky: true, layer }
    if (exp.traffic !== undefined && exp.traffic < 100 && !(unitHash('traffic', exp.id, visitorId) < exp.traffic / 100)) {
      return { enter: false, why: 'outside the experiment traffic', fallThrough: true }
    }
    const variant = pickArm(exp.split, bucket)
    if (variant === undefined) return { enter: false, why: 'the split has no arm with weight' }
    return { enter: true, variant, bucket, sticky: false, layer }
  }

  return { holdout: inHoldout(ruleset.settings.holdoutPercent, visitorId), assign }
}
