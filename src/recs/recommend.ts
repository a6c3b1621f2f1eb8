import type { CatalogItemDoc } from './catalog'
import type { RecsIndex } from './model-index'

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

/** The indices of the ids the model knows, in order. */
function known(index: RecsIndex, ids: readonly string[]): number[] {
  const out: number[] = []
  for (const id of ids) {
    const i = index.indexOf(id)
    if (i !== undefined) out.push(i)
  }
  return out
}

function neighbourRanking(index: RecsIndex, spec: RecommendSpec, visitor: VisitorItems): number[] {
  const graph = spec.strategy === 'also-bought' ? 'bought' : 'viewed'
  // On an item page the page's item is the seed; elsewhere the visitor's recent items are.
  const seeds =
    visitor.current !== undefined ? [visitor.current] : [...(graph === 'bought' ? visitor.purchased : visitor.recent)].reverse()
  const scores = new Map<number, number>()
  seeds.forEach((id, k) => {
    const seed = index.indexOf(id)
    const weight = RECENCY_DECAY ** k
    if (seed !== undefined) index.forEachNeighbour(graph, seed, (j, s) => scores.set(j, (scores.get(j) ?? 0) + weight * s))
  })
  return [...scores].sort((a, b) => b[1] - a[1] || (index.id(a[0]) < index.id(b[0]) ? -1 : 1)).map(([item]) => item)
}

function popularRanking(index: RecsIndex, visitor: VisitorItems): number[] {
  const current = visitor.current === undefined ? undefined : index.indexOf(visitor.current)
  const inCategory = current === undefined ? undefined : index.popularIn(index.category(current))
  return [...(inCategory ?? []), ...index.popular]
}

function ranking(index: RecsIndex, spec: RecommendSpec, visitor: VisitorItems): number[] {
  switch (spec.strategy) {
    case 'also-viewed':
    case 'also-bought':
      return neighbourRanking(index, spec, visitor)
    case 'recently-viewed':
      return known(index, [...visitor.recent].reverse())
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
 * fractional part is a coin flip per render, so the share holds for any count. Items are model
 * numbers throughout; only the items looked at are decoded (src/recs/model-index.ts).
 */
export function recommend(
  index: RecsIndex,
  spec: RecommendSpec,
  visitor: VisitorItems,
  random: () => number = Math.random,
): Recommendation {
  const excluded = new Set<number>()
  if (visitor.current !== undefined) for (const i of known(index, [visitor.current])) excluded.add(i)
  if (spec.exclude === 'viewed') for (const i of known(index, visitor.recent)) excluded.add(i)
  if (spec.exclude === 'purchased') for (const i of known(index, visitor.purchased)) excluded.add(i)
  const perCategory = spec.perCategory ?? Number.POSITIVE_INFINITY
  const perCat = new Map<number, number>()
  const taken = new Set<number>()
  const fits = (i: number): CatalogItemDoc | undefined => {
    if (taken.has(i) || excluded.has(i)) return undefined
    const c = index.category(i)
    if (c >= 0 && (perCat.get(c) ?? 0) >= perCategory) return undefined
    return index.item(i)
  }
  const take = (i: number) => {
    taken.add(i)
    const c = index.category(i)
    if (c >= 0) perCat.set(c, (perCat.get(c) ?? 0) + 1)
  }

  const primary = ranking(index, spec, visitor).filter((i) => !excluded.has(i) && index.item(i) !== undefined)
  const coldStart = primary.length === 0
  const ranked = [...primary, ...popularRanking(index, visitor)]
  const wanted = spec.explore === undefined ? 0 : spec.explore * spec.count
  const exploreSlots = Math.min(spec.count, Math.floor(wanted) + (random() < wanted - Math.floor(wanted) ? 1 : 0))

  // The top list: what the ranking alone would show. Exploration draws from outside it.
  const top: number[] = []
  for (const i of ranked) {
    if (top.length >= spec.count) break
    if (fits(i) !== undefined) {
      top.push(i)
      take(i)
    }
  }
  const topSet = new Set(top)
  const shown = top.slice(0, spec.count - exploreSlots)
  // Release the top items that make way for exploration, for the category count only.
  for (const i of top.slice(shown.length)) {
    const c = index.category(i)
    if (c >= 0) perCat.set(c, (perCat.get(c) ?? 1) - 1)
  }
  const explored: number[] = []
  const exploreFits = (i: number) => (topSet.has(i) ? undefined : fits(i))
  for (let n = 0; n < exploreSlots; n++) {
    let found: number | undefined
    for (let d = 0; d < EXPLORE_DRAWS && found === undefined; d++) {
      const i = Math.floor(random() * index.size)
      if (i < index.size && exploreFits(i) !== undefined) found = i
    }
    if (found === undefined) {
      const rest: number[] = []
      for (let i = 0; i < index.size; i++) if (exploreFits(i) !== undefined) rest.push(i)
      found = rest[Math.floor(random() * rest.length)]
    }
    if (found === undefined) break // nothing left outside the top list
    take(found)
    explored.push(found)
  }
  const slot = (i: number, explore: boolean): Slot => ({ item: index.item(i) as CatalogItemDoc, explore })
  // Slots exploration could not fill go back to the top list.
  const slots: Slot[] = shown.map((i) => slot(i, false))
  for (const i of top.slice(shown.length, shown.length + exploreSlots - explored.length)) {
    const c = index.category(i)
    if (c >= 0 && (perCat.get(c) ?? 0) >= perCategory) continue
    if (c >= 0) perCat.set(c, (perCat.get(c) ?? 0) + 1)
    slots.push(slot(i, false))
  }
  for (const i of explored) slots.splice(Math.floor(random() * (slots.length + 1)), 0, slot(i, true))
  return { slots, coldStart }
}
