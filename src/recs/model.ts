import type { CatalogDoc, CatalogItemDoc } from './catalog'
import { byCount, type Neighbour, topNeighbours } from './similarity'
import { isSafeUrl } from './url'

/** KV key of the recommendations model (SPEC 13): one value, written atomically by one `put`. */
export const MODEL_KEY = 'recs:model'
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

/** The stored model: the catalog items it may render, plus neighbours and lists of their ids. */
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

/** The model compiled for the hot path: lookups by id, every renderable item checked once. */
export interface RecsIndex {
  version: string
  items: ReadonlyMap<string, CatalogItemDoc>
  alsoViewed: ReadonlyMap<string, readonly Neighbour[]>
  alsoBought: ReadonlyMap<string, readonly Neighbour[]>
  trending: readonly string[]
  popular: readonly string[]
  popularByCategory: ReadonlyMap<string, readonly string[]>
  /** Every renderable item id, for exploration. */
  all: readonly string[]
}

const isStr = (v: unknown, max = 2000): v is string => typeof v === 'string' && v.length > 0 && v.length <= max
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function item(v: unknown): CatalogItemDoc | undefined {
  if (!isObj(v) || !isStr(v.id, 64) || !isStr(v.title, 500) || !isStr(v.url) || !isSafeUrl(v.url)) return undefined
  const out: CatalogItemDoc = { id: v.id, title: v.title, url: v.url }
  if (isStr(v.image) && isSafeUrl(v.image)) out.image = v.image
  if (isStr(v.category, 100)) out.category = v.category
  if ((typeof v.price === 'number' && Number.isFinite(v.price)) || isStr(v.price, 50)) out.price = v.price
  return out
}

function neighbourMap(v: unknown, items: ReadonlyMap<string, unknown>): Map<string, Neighbour[]> {
  const out = new Map<string, Neighbour[]>()
  if (!isObj(v)) return out
  for (const [id, list] of Object.entries(v)) {
    if (!items.has(id) || !Array.isArray(list)) continue
    // The parsed pairs are kept as they are once checked: a model of 5,000 items holds 100,000
    // of them, and copying each would double the allocation of the cold-isolate compile.
    const valid = (n: unknown): n is Neighbour =>
      Array.isArray(n) && typeof n[0] === 'string' && items.has(n[0]) && typeof n[1] === 'number' && Number.isFinite(n[1])
    const ok: Neighbour[] = list.every(valid) ? list : list.filter(valid)
    if (ok.length > 0) out.set(id, ok)
  }
  return out
}

const idList = (v: unknown, items: ReadonlyMap<string, unknown>): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && items.has(x)) : []

/**
 * A stored model into its index, or undefined when it is not a model. Tolerant inside: an item
 * that fails the checks (an unsafe URL) is dropped, with every reference to it, not the model.
 */
export function compileModel(value: unknown): RecsIndex | undefined {
  if (!isObj(value) || !isStr(value.version, 200) || !Array.isArray(value.items)) return undefined
  const items = new Map<string, CatalogItemDoc>()
  for (const v of value.items) {
    const i = item(v)
    if (i !== undefined && !items.has(i.id)) items.set(i.id, i)
  }
  const byCategory = new Map<string, string[]>()
  if (isObj(value.popularByCategory))
    for (const [cat, list] of Object.entries(value.popularByCategory)) byCategory.set(cat, idList(list, items))
  return {
    version: value.version,
    items,
    alsoViewed: neighbourMap(value.alsoViewed, items),
    alsoBought: neighbourMap(value.alsoBought, items),
    trending: idList(value.trending, items),
    popular: idList(value.popular, items),
    popularByCategory: byCategory,
    all: [...items.keys()],
  }
}
