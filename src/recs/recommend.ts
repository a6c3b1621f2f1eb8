import type { CatalogItemDoc } from './catalog'
import type { RecsIndex } from './model'

/** The strategies of the `recommend` operation (SPEC 13). */
export const STRATEGIES = ['also-viewed', 'also-bought', 'recently-viewed', 'trending', 'popular'] as const
export type Strategy = (typeof STRATEGIES)[number]

export interface RecommendSpec {
  strategy: Strategy
  count: number
  exclude?: 'viewed' | 'purchased'
  perCategory?: number
  /** Share of slots, 0–1, filled from outside the top list. */
  explore?: number
}

/** What is known of the visitor's items: the page's own item and, with consent, the cookie's. */
export interface VisitorItems {
  /** The item of this page (`settings.items`), if it is an item page. */
  current?: string
  /** Recently viewed items, most recent last. */
  recent: readonly string[]
  /** Items added to the cart or bought, most recent last. */
  purchased: readonly string[]
}

export interface Slot {
  item: CatalogItemDoc
  /** Filled by exploration (outside the top list), not by the strategy's ranking. */
  explore: boolean
}

export interface Recommendation {
  slots: Slot[]
  /** The strategy had nothing for this visitor or page, so `popular` ranked the items. */
  coldStart: boolean
}

/** Recent items weigh less the longer ago they were viewed. */
const RECENCY_DECAY = 0.8
/** Random draws before exploration falls back to scanning the catalog. */
const EXPLORE_DRAWS = 64

function neighbourRanking(index: RecsIndex, spec: RecommendSpec, visitor: VisitorItems): string[] {
  const graph = spec.strategy === 'also-bought' ? index.alsoBought : index.alsoViewed
  // On an item page the page's item is the seed; elsewhere the visitor's recent items are.
  const seeds: [string, number][] =
    visitor.current !== undefined
      ? [[visitor.current, 1]]
      : [...(spec.strategy === 'also-bought' ? visitor.purchased : visitor.recent)]
          .reverse()
          .map((item, i) => [item, RECENCY_DECAY ** i])
  const scores = new Map<string, number>()
  for (const [seed, weight] of seeds) {
    for (const [item, s] of graph.get(seed) ?? []) scores.set(item, (scores.get(item) ?? 0) + weight * s)
  }
  return [...scores].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([item]) => item)
}

function popularRanking(index: RecsIndex, visitor: VisitorItems): string[] {
  const cat = visitor.current === undefined ? undefined : index.items.get(visitor.current)?.category
  const inCategory = cat === undefined ? [] : (index.popularByCategory.get(cat) ?? [])
  return [...inCategory, ...index.popular]
}

function ranking(index: RecsIndex, spec: RecommendSpec, visitor: VisitorItems): string[] {
  switch (spec.strategy) {
    case 'also-viewed':
    case 'also-bought':
      return neighbourRanking(index, spec, visitor)
    case 'recently-viewed':
      return [...visitor.recent].reverse()
    case 'trending':
      return [...index.trending]
    case 'popular':
      return popularRanking(index, visitor)
  }
}

/**
 * Picks the items for one `recommend` operation: the strategy's ranking (cold start: `popular`,
 * which also fills slots the ranking cannot), without the page's own item and the excluded
 * ones, at most `perCategory` per category, and a share `explore` of the slots drawn at random
 * from the rest of the catalog, at random positions. `explore × count` slots on average: the
 * fractional part is a coin flip per render, so the share holds for any count.
 */
export function recommend(
  index: RecsIndex,
  spec: RecommendSpec,
  visitor: VisitorItems,
  random: () => number = Math.random,
): Recommendation {
  const excluded = new Set<string>()
  if (visitor.current !== undefined) excluded.add(visitor.current)
  if (spec.exclude === 'viewed') for (const i of visitor.recent) excluded.add(i)
  if (spec.exclude === 'purchased') for (const i of visitor.purchased) excluded.add(i)
  const perCategory = spec.perCategory ?? Number.POSITIVE_INFINITY
  const perCat = new Map<string, number>()
  const taken = new Set<string>()
  const fits = (id: string): CatalogItemDoc | undefined => {
    if (taken.has(id) || excluded.has(id)) return undefined
    const item = index.items.get(id)
    if (item === undefined) return undefined
    if (item.category !== undefined && (perCat.get(item.category) ?? 0) >= perCategory) return undefined
    return item
  }
  const take = (item: CatalogItemDoc) => {
    taken.add(item.id)
    if (item.category !== undefined) perCat.set(item.category, (perCat.get(item.category) ?? 0) + 1)
  }

  const primary = ranking(index, spec, visitor).filter((id) => !excluded.has(id) && index.items.has(id))
  const coldStart = primary.length === 0
  const ranked = [...primary, ...popularRanking(index, visitor)]
  const wanted = spec.explore === undefined ? 0 : spec.explore * spec.count
  const exploreSlots = Math.min(spec.count, Math.floor(wanted) + (random() < wanted - Math.floor(wanted) ? 1 : 0))

  // The top list: what the ranking alone would show. Exploration draws from outside it.
  const top: CatalogItemDoc[] = []
  for (const id of ranked) {
    if (top.length >= spec.count) break
    const item = fits(id)
    if (item !== undefined) {
      top.push(item)
      take(item)
    }
  }
  const topIds = new Set(top.map((i) => i.id))
  const shown = top.slice(0, spec.count - exploreSlots)
  // Release the top items that make way for exploration, for the category count only.
  for (const item of top.slice(shown.length))
    if (item.category !== undefined) perCat.set(item.category, (perCat.get(item.category) ?? 1) - 1)
  const explored: CatalogItemDoc[] = []
  const exploreFits = (id: string) => (topIds.has(id) ? undefined : fits(id))
  for (let n = 0; n < exploreSlots; n++) {
    let found: CatalogItemDoc | undefined
    for (let d = 0; d < EXPLORE_DRAWS && found === undefined; d++) {
      const id = index.all[Math.floor(random() * index.all.length)]
      if (id !== undefined) found = exploreFits(id)
    }
    if (found === undefined) {
      const rest = index.all.filter((id) => exploreFits(id) !== undefined)
      const id = rest[Math.floor(random() * rest.length)]
      found = id === undefined ? undefined : exploreFits(id)
    }
    if (found === undefined) break // nothing left outside the top list
    take(found)
    explored.push(found)
  }
  // Slots exploration could not fill go back to the top list.
  const slots: Slot[] = shown.map((item) => ({ item, explore: false }))
  for (const item of top.slice(shown.length, shown.length + exploreSlots - explored.length)) {
    const cat = item.category
    if (cat !== undefined && (perCat.get(cat) ?? 0) >= perCategory) continue
    if (cat !== undefined) perCat.set(cat, (perCat.get(cat) ?? 0) + 1)
    slots.push({ item, explore: false })
  }
  for (const item of explored) slots.splice(Math.floor(random() * (slots.length + 1)), 0, { item, explore: true })
  return { slots, coldStart }
}
