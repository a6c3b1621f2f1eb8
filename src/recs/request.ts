import type { Context, VisitorState } from '../context/types'
import type { Decision } from '../decide/types'
import type { Env } from '../env'
import { identityOf } from '../identity/state'
import { MAX_SHOWN_ITEMS } from '../identity/visitor-token'
import { utcDay } from '../measure/store'
import type { RecommendRenderer } from '../rewrite/plan'
import type { CompiledRuleset } from '../rules/compile'
import { logError } from '../util/log'
import { type ServedSlotRow, viewRows } from './counts'
import type { RecsIndex } from './model-index'
import { recommend, type VisitorItems } from './recommend'
import { getRecsModel } from './store'
import { recsTally } from './tally'
import { renderItem } from './template'
import { itemOfPath } from './visitor-items'

/** Per ruleset version: each placement's variants that have a `recommend` operation. */
const recommendVariants = new WeakMap<CompiledRuleset, ReadonlyMap<string, ReadonlySet<string>>>()

function variantsWithRecommend(ruleset: CompiledRuleset): ReadonlyMap<string, ReadonlySet<string>> {
  let map = recommendVariants.get(ruleset)
  if (map === undefined) {
    const m = new Map<string, Set<string>>()
    for (const p of ruleset.placements)
      for (const [id, v] of p.variants)
        if (v.ops.some((op) => op.op === 'recommend')) {
          const set = m.get(p.id) ?? new Set<string>()
          set.add(id)
          m.set(p.id, set)
        }
    map = m
    recommendVariants.set(ruleset, map)
  }
  return map
}

/** Whether any variant of the ruleset has a `recommend` operation (computed once per version). */
export function hasRecommend(ruleset: CompiledRuleset): boolean {
  return variantsWithRecommend(ruleset).size > 0
}

/**
 * Starts the model lookup for a request, in parallel with the decision, when the ruleset can
 * use it (memory when warm; a cold read bounded by `settings.budgetMs`).
 */
export function startRecsModel(
  ruleset: CompiledRuleset,
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<RecsIndex | undefined> | undefined {
  if (!hasRecommend(ruleset)) return undefined
  return getRecsModel(env.RULES, { budgetMs: ruleset.settings.budgetMs, waitUntil }).catch(() => undefined)
}

/** The renderer `planRewrite` calls, and what it showed, for measurement. */
export interface RequestRecs {
  render: RecommendRenderer
  /**
   * With analytics consent: counts the item view, the slots shown (top and explore) and a view
   * that follows one; keeps what was shown in the visitor's record. Call before the cookie is
   * written.
   */
  record(): void
}

/**
 * Recommendations for one page request: the visitor's items (the page's own item, plus with
 * personalization consent the recent and purchased lists read from `veneer_visitor`), the
 * renderer for `recommend` operations, and the counting of this view. Without a model, a
 * `recommend` operation renders nothing and its element stays as the origin sent it.
 */
export function requestRecs(
  model: RecsIndex | undefined,
  ruleset: CompiledRuleset,
  ctx: Context,
  state: VisitorState,
  opts: {
    qa: boolean
    env: Env
    waitUntil: (p: Promise<unknown>) => void
    at?: number
    random?: () => number
    /** The request's decoded path, when the caller has it (else read from the context). */
    path?: string
  },
): RequestRecs {
  const at = opts.at ?? Date.now()
  const personal = state.consent.personalization ? state.items : undefined
  const visitor: VisitorItems = {
    current: itemOfPath(ruleset.settings, opts.path ?? ctx.request.path),
    recent: personal?.recent ?? [],
    purchased: personal?.purchased ?? [],
  }
  const served: ServedSlotRow[] = []
  const shown: [string, 0 | 1][] = []
  const render: RecommendRenderer = (op, placement) => {
    if (model === undefined) return undefined
    try {
      const rec = recommend(model, op.spec, visitor, opts.random)
      let html = ''
      let count = 0
      for (const slot of rec.slots) {
        const one = renderItem(op.template, slot.item)
        if (one === undefined) continue
        html += one
        count++
        shown.push([slot.item.id, slot.explore ? 1 : 0])
        served.push({ day: utcDay(at), placement, strategy: op.spec.strategy, slot: slot.explore ? 'explore' : 'top', count: 1 })
      }
      return count === 0 ? undefined : { op: 'setHtml', value: html }
    } catch (err) {
      logError('recommend_failed', err, { placement })
      return undefined
    }
  }
  return {
    render,
    record() {
      if (opts.qa || !ctx.consent.analytics || ctx.device.isBot) return
      // A view of an item the last recommendations showed: their value, top against explore.
      const followed = visitor.current === undefined ? undefined : personal?.shown?.find(([id]) => id === visitor.current)
      if (followed !== undefined)
        served.push({
          day: utcDay(at),
          placement: '*',
          strategy: '*',
          slot: followed[1] === 1 ? 'explore-followed' : 'top-followed',
          count: 1,
        })
      // What this page showed, for the next page view (in the cookie, which is written after this).
      const record = personal === undefined ? undefined : identityOf(state)?.record
      if (record !== undefined && (shown.length > 0 || followed !== undefined)) record.shown = shown.slice(0, MAX_SHOWN_ITEMS)
      const tally = recsTally(opts.env, opts.waitUntil)
      if (tally === undefined) return
      tally.add(visitor.current === undefined ? [] : viewRows(visitor.current, visitor.recent, at), served)
    },
  }
}

/** Whether this decision shows a `recommend` operation (so the model is worth waiting for). */
export function decisionRecommends(ruleset: CompiledRuleset, decision: Decision): boolean {
  const byPlacement = variantsWithRecommend(ruleset)
  if (byPlacement.size === 0) return false
  return decision.placements.some((d) => byPlacement.get(d.placement)?.has(d.variant) === true)
}
