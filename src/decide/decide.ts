import type { Context } from '../context/types'
import { CONTROL, type CompiledPlacement, type CompiledRuleset } from '../rules/compile'
import { addSegment, newSegmentList } from './segment-set'
import type { Decision, DecideHooks, PlacementDecision } from './types'

/** Ids of the segments the context matches, in document order; each sees the ones before it. */
export function matchSegments(ruleset: CompiledRuleset, ctx: Context): string[] {
  const list = newSegmentList()
  ctx.segments = list
  for (const s of ruleset.segments) if (s.matches(ctx)) addSegment(list, s.id)
  return list
}

function decidePlacement(pl: CompiledPlacement, ctx: Context, hooks: DecideHooks): PlacementDecision {
  const forced = hooks.override?.(pl)
  const known = (v: string) => v === CONTROL || pl.variants.has(v)
  if (forced !== undefined && known(forced.variant)) {
    return { placement: pl.id, variant: forced.variant, reason: { kind: 'override', by: forced.by } }
  }
  if (hooks.holdout === true) return { placement: pl.id, variant: CONTROL, reason: { kind: 'holdout' } }
  for (const rule of pl.rules) {
    if (!rule.matches(ctx)) continue
    if (rule.variant !== undefined) return { placement: pl.id, variant: rule.variant, reason: { kind: 'rule', rule: rule.index } }
    const exp = rule.experiment
    if (exp === undefined) continue
    const outcome = hooks.assign?.(exp, pl, rule) ?? { enter: false, why: 'experiments are not enabled' }
    if (outcome.enter && known(outcome.variant)) {
      return {
        placement: pl.id,
        variant: outcome.variant,
        experiment: exp.id,
        reason: {
          kind: 'experiment',
          rule: rule.index,
          experiment: exp.id,
          bucket: outcome.bucket,
          sticky: outcome.sticky,
          layer: outcome.layer,
        },
      }
    }
    if (!outcome.enter && outcome.fallThrough === true) continue
    return {
      placement: pl.id,
      variant: CONTROL,
      reason: {
        kind: 'experiment-skipped',
        rule: rule.index,
        experiment: exp.id,
        why: outcome.enter ? 'assigned variant no longer exists' : outcome.why,
      },
    }
  }
  return { placement: pl.id, variant: CONTROL, reason: { kind: 'default' } }
}

/** The placements whose `paths` match `path`, in document order. */
export function placementsOnPath(ruleset: CompiledRuleset, path: string): CompiledPlacement[] {
  return ruleset.placements.filter((pl) => pl.matchesPath(path))
}

/**
 * Decides a variant for every placement whose paths match `path` (SPEC 4.4): QA override,
 * else holdout, else the first matching rule, else `control`. Pure: no I/O, no clock, so the
 * same call serves requests, `explain`, the CLI and the benchmark.
 */
export function decide(ruleset: CompiledRuleset, ctx: Context, path: string, hooks: DecideHooks = {}): Decision {
  const onPath = hooks.onPath ?? placementsOnPath(ruleset, path)
  const segments = onPath.length === 0 && hooks.segmentsOnlyWithPlacements === true ? [] : matchSegments(ruleset, ctx)
  const placements = onPath.map((pl) => decidePlacement(pl, ctx, hooks))
  return { segments, placements, holdout: hooks.holdout === true }
}
