import type { CatalogDoc, CatalogItemDoc } from './catalog'
import { byCount, type Neighbour, topNeighbours } from './similarity'

/** KV key of the recommendations model (SPEC 13): one value, written atomically by one `put`. */
export const MODEL_KEY = 'recs:model'
/**
 * A small KV value written after the model: its version (and when it was built), so a cron tick
 * can skip a rebuild and a Worker's refresh can skip reading an unchanged model.
 */
export const MODEL_META_KEY = 'recs:model:meta'
/** Items kept in each list (popular, trending, per category). */
export const LIST_SIZE = 100
export const NEIGHBOURS_PER_ITEM = 20

/** What the scheduled build reads from the counters, summed over its windows. */
export interface RecsCounts {
  /** Item views over the model window. */
  views: ReadonlyMap<string, number>
  /** Item views over the trending window (the most recent days). */
  recentViews: ReadonlyMap<string, number>
  /** Co-viewed pairs (`pairKey`) over the model window. */
  viewPairs: ReadonlyMap<string, number>
  /** Cart adds and purchases per item, and pairs of them, over the model window. */
  buys: ReadonlyMap<string, number>
  buyPairs: ReadonlyMap<string, number>
  windowDays: number
  trendingDays: number
}

/**
 * The model as the build produces it: the catalog items it may render, plus neighbours and lists
 * of their ids. Stored compactly (src/recs/model-codec.ts); this is the logical document.
 */
export interface RecsModelDoc {
  version: string
  builtAt: string
  catalogVersion: string
  items: CatalogItemDoc[]
  alsoViewed: Record<string, Neighbour[]>
  alsoBought: Record<string, Neighbour[]>
  trending: string[]
  popular: string[]
  popularByCategory: Record<string, string[]>
}

/**
 * Trending: items viewed more in the recent window than their rate over the whole window
 * predicts (excess views, at least 2 recent views), most excess first.
 */
export function trendingItems(c: RecsCounts, keep: (item: string) => boolean, limit = LIST_SIZE): string[] {
  const share = Math.min(1, c.trendingDays / c.windowDays)
  const excess = new Map<string, number>()
  for (const [item, recent] of c.recentViews) {
    if (recent < 2 || !keep(item)) continue
    const e = recent - (c.views.get(item) ?? recent) * share
    if (e > 0) excess.set(item, e)
  }
  return byCount(excess, limit)
}

/** Builds the model from the counters and the catalog: pure, so tests and `explain` share it. */
export function buildModel(catalog: CatalogDoc, c: RecsCounts, at: Date): RecsModelDoc {
  const ids = new Set(catalog.items.map((i) => i.id))
  const keep = (item: string) => ids.has(item)
  const toRecord = (m: Map<string, Neighbour[]>) =>
    Object.fromEntries([...m].map(([k, l]) => [k, l.map(([n, s]) => [n, round(s)] as const)]))
  const popular = byCount(c.views, LIST_SIZE, keep)
  const byCategory: Record<string, string[]> = {}
  const category = new Map(catalog.items.map((i) => [i.id, i.category]))
  for (const item of byCount(c.views, Number.POSITIVE_INFINITY, keep)) {
    const cat = category.get(item)
    if (cat === undefined) continue
    const list = (byCategory[cat] ??= [])
    if (list.length < LIST_SIZE) list.push(item)
  }
  const version = `m-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}`
  return {
    version,
    builtAt: at.toISOString(),
    catalogVersion: String(catalog.version ?? ''),
    items: catalog.items,
    alsoViewed: toRecord(topNeighbours(c.views, c.viewPairs, { top: NEIGHBOURS_PER_ITEM, keep })),
    alsoBought: toRecord(topNeighbours(c.buys, c.buyPairs, { top: NEIGHBOURS_PER_ITEM, keep })),
    trending: trendingItems(c, keep),
    popular,
    popularByCategory: byCategory,
  }
}

const round = (s: number) => Math.round(s * 1e6) / 1e6
