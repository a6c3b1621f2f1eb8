import { validateCatalog } from './catalog'
import { parseEventsCsv, type ItemEvent } from './evaluate'
import { buildModel, type RecsCounts, type RecsModelDoc } from './model'
import { pairKey } from './similarity'
import { MODEL_WINDOW_DAYS, TRENDING_DAYS } from './build'

const DAY_MS = 86_400_000

/**
 * The counters a history stands for, as the edge would have counted them per visitor: each
 * visitor's distinct items once, each pair of them once; "recent" is the last
 * {@link TRENDING_DAYS} before the history's latest event (timestamps in seconds or ms).
 */
export function countsFromEvents(events: readonly ItemEvent[]): RecsCounts {
  const ms = (t: number) => (t < 1e11 ? t * 1000 : t)
  const latest = events.reduce((m, e) => Math.max(m, ms(e.time)), 0)
  const byVisitor = new Map<string, Map<string, number>>()
  for (const e of events) {
    let items = byVisitor.get(e.visitor)
    if (items === undefined) byVisitor.set(e.visitor, (items = new Map()))
    items.set(e.item, Math.max(items.get(e.item) ?? 0, ms(e.time)))
  }
  const views = new Map<string, number>()
  const recentViews = new Map<string, number>()
  const viewPairs = new Map<string, number>()
  for (const items of byVisitor.values()) {
    const list = [...items.keys()]
    for (const [item, at] of items) {
      views.set(item, (views.get(item) ?? 0) + 1)
      if (at > latest - TRENDING_DAYS * DAY_MS) recentViews.set(item, (recentViews.get(item) ?? 0) + 1)
    }
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const key = pairKey(list[i] as string, list[j] as string)
        viewPairs.set(key, (viewPairs.get(key) ?? 0) + 1)
      }
  }
  return {
    views,
    recentViews,
    viewPairs,
    buys: new Map(),
    buyPairs: new Map(),
    windowDays: MODEL_WINDOW_DAYS,
    trendingDays: TRENDING_DAYS,
  }
}

/** A model from a catalog file and a history CSV (the demo seed; a site importing its history). */
export function modelFromFiles(catalogText: string, historyCsv: string, at: Date = new Date()): RecsModelDoc {
  const catalog = validateCatalog(JSON.parse(catalogText))
  if (!catalog.ok) throw new Error(`the catalog is not valid: ${catalog.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`)
  const history = parseEventsCsv(historyCsv)
  if (!history.ok) throw new Error(`the history is not valid: line ${history.issues[0]?.line}: ${history.issues[0]?.message}`)
  return buildModel(catalog.doc, countsFromEvents(history.events), at)
}
