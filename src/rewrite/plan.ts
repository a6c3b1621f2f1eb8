import type { Context } from '../context/types'
import type { PlacementDecision } from '../decide/types'
import { CONTROL, type CompiledOp, type CompiledRuleset } from '../rules/compile'
import { escapeHtml, fillTemplate, isTemplated } from './template'

/** An operation with its value filled for this request: what a synchronous handler applies. */
export type FilledOp =
  /** `templated`: the value holds request data (placeholders), so it must not fill a <script>/<style>. */
  | { op: 'setText' | 'setHtml' | 'replace' | 'before' | 'after' | 'prepend' | 'append'; value: string; templated?: boolean }
  | { op: 'remove' }
  | { op: 'setAttr'; name: string; value: string }
  | { op: 'removeAttr'; name: string }
  | { op: 'addClass' | 'removeClass'; className: string }

/** Selector → the operations to apply to every element it matches, in document order. */
export type RewritePlan = Map<string, FilledOp[]>

const identity = (s: string) => s

/**
 * Renders a `recommend` operation for this request (src/recs/render.ts), or undefined to leave
 * the element as the origin sent it (no model, nothing to show).
 */
export type RecommendRenderer = (op: Extract<CompiledOp, { op: 'recommend' }>, placement: string) => FilledOp | undefined

function fill(op: CompiledOp, ctx: Context, placement: string, recs: RecommendRenderer | undefined): FilledOp | undefined {
  switch (op.op) {
    case 'recommend':
      return recs?.(op, placement)
    case 'remove':
      return { op: op.op }
    case 'removeAttr':
      return { op: op.op, name: op.name }
    case 'addClass':
    case 'removeClass':
      return { op: op.op, className: op.className }
    case 'setAttr':
      // lol-html escapes only `"` in attribute values; placeholders get full escaping here.
      return { op: op.op, name: op.name, value: fillTemplate(op.template, ctx, escapeHtml) }
    case 'setText':
      // Inserted as text (html: false): the runtime escapes all of it, placeholders included.
      return { op: op.op, value: fillTemplate(op.template, ctx, identity), templated: isTemplated(op.template) }
    default:
      return { op: op.op, value: fillTemplate(op.template, ctx, escapeHtml), templated: isTemplated(op.template) }
  }
}

// Built once per compiled ruleset (a version is immutable), not once per request.
const byIdCache = new WeakMap<CompiledRuleset, ReadonlyMap<string, CompiledRuleset['placements'][number]>>()

function placementsById(ruleset: CompiledRuleset): ReadonlyMap<string, CompiledRuleset['placements'][number]> {
  let m = byIdCache.get(ruleset)
  if (m === undefined) {
    m = new Map(ruleset.placements.map((p) => [p.id, p]))
    byIdCache.set(ruleset, m)
  }
  return m
}

/**
 * All decisions' operations, filled and grouped by selector, decided before the stream starts
 * so HTMLRewriter handlers stay synchronous (an async handler pauses the whole parse).
 */
export function planRewrite(
  ruleset: CompiledRuleset,
  decisions: readonly PlacementDecision[],
  ctx: Context,
  recs?: RecommendRenderer,
): RewritePlan {
  const plan: RewritePlan = new Map()
  const byId = placementsById(ruleset)
  for (const d of decisions) {
    if (d.variant === CONTROL) continue
    const variant = byId.get(d.placement)?.variants.get(d.variant)
    if (variant === undefined) continue
    for (const op of variant.ops) {
      const filled = fill(op, ctx, d.placement, recs)
      if (filled === undefined) continue
      let list = plan.get(op.selector)
      if (list === undefined) plan.set(op.selector, (list = []))
      list.push(filled)
    }
  }
  return plan
}
