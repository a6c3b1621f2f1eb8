import { isRecord } from '../util/guards'
import type { CatalogItemDoc } from './catalog'
import { MODEL_KEY, MODEL_META_KEY, type RecsModelDoc } from './model'
import {
  ENTRY_CHARS,
  type GraphSection,
  MAX_MODEL_ITEMS,
  MAX_SCORE_UNITS,
  RecsIndex,
  SCORE_SCALE,
  putDigits,
} from './model-index'
import type { Neighbour } from './similarity'
import { isSafeUrl } from './url'

/**
 * The stored form of the recommendations model (KV `recs:model`), format 2:
 *
 *     VENEER-RECS/2 "<version>"\n<header JSON>\n<items><also-viewed entries><also-bought entries>
 *
 * The header holds what every page needs (item ids, categories, the lists) as numbers; each
 * item's fields are one JSON array `[title, url, image, price]` and each neighbour is 7 base64url
 * characters (item number, score in millionths), all left in the text and read only for the
 * items a page uses. So a Worker loads a model in one pass over its ids, and checks whether a
 * stored model is the one it has by its first line. Format 1 (the first cron's single JSON
 * document) is still read: {@link decodeModel} converts it.
 */
export const MODEL_FORMAT = 2
const MAGIC = `VENEER-RECS/${MODEL_FORMAT} `

interface Header {
  builtAt: string
  catalogVersion: string
  ids: string[]
  categories: string[]
  cat: number[]
  /** Cumulative character length of the items section after each item. */
  itemEnds: number[]
  /** Cumulative neighbour entries after each item. */
  viewedEnds: number[]
  boughtEnds: number[]
  popular: number[]
  trending: number[]
  popularByCategory: [number, number[]][]
}

/** A model as stored text (format 2). Throws past {@link MAX_MODEL_ITEMS} items. */
export function encodeModel(doc: RecsModelDoc): string {
  if (doc.items.length > MAX_MODEL_ITEMS) throw new Error(`a model holds at most ${MAX_MODEL_ITEMS} items`)
  const index = new Map<string, number>()
  const ids: string[] = []
  for (const item of doc.items)
    if (!index.has(item.id)) {
      index.set(item.id, ids.length)
      ids.push(item.id)
    }
  const categories: string[] = []
  const catIndex = new Map<string, number>()
  const cat: number[] = []
  const itemEnds: number[] = []
  let items = ''
  const seen = new Set<string>()
  for (const item of doc.items) {
    if (seen.has(item.id)) continue
    seen.add(item.id)
    let c = -1
    if (item.category !== undefined) {
      c = catIndex.get(item.category) ?? -1
      if (c < 0) {
        c = categories.length
        catIndex.set(item.category, c)
        categories.push(item.category)
      }
    }
    cat.push(c)
    items += JSON.stringify([item.title, item.url, item.image ?? null, item.price ?? null])
    itemEnds.push(items.length)
  }
  const graph = (lists: Record<string, readonly Neighbour[]>): { ends: number[]; text: string } => {
    const ends: number[] = []
    let size = 0
    for (const id of ids) size += Object.hasOwn(lists, id) ? (lists[id]?.length ?? 0) : 0
    // ASCII bytes decoded once: 100,000 entries as small strings joined cost 4× as much.
    const bytes = new Uint8Array(size * ENTRY_CHARS)
    let n = 0
    for (const id of ids) {
      const list = Object.hasOwn(lists, id) ? lists[id] : undefined
      for (const [other, score] of list ?? []) {
        const j = index.get(other)
        const units = Math.min(MAX_SCORE_UNITS, Math.round(score * SCORE_SCALE))
        if (j === undefined || other === id || !(units > 0)) continue
        putDigits(bytes, n * ENTRY_CHARS, j, 3)
        putDigits(bytes, n * ENTRY_CHARS + 3, units, 4)
        n++
      }
      ends.push(n)
    }
    return { ends, text: new TextDecoder().decode(bytes.subarray(0, n * ENTRY_CHARS)) }
  }
  const refs = (list: readonly string[]) => list.map((id) => index.get(id)).filter((j): j is number => j !== undefined)
  const viewed = graph(doc.alsoViewed)
  const bought = graph(doc.alsoBought)
  const header: Header = {
    builtAt: doc.builtAt,
    catalogVersion: doc.catalogVersion,
    ids,
    categories,
    cat,
    itemEnds,
    viewedEnds: viewed.ends,
    boughtEnds: bought.ends,
    popular: refs(doc.popular),
    trending: refs(doc.trending),
    popularByCategory: Object.entries(doc.popularByCategory).flatMap(([c, list]): [number, number[]][] => {
      const k = catIndex.get(c)
      return k === undefined ? [] : [[k, refs(list)]]
    }),
  }
  return `${MAGIC}${JSON.stringify(doc.version)}\n${JSON.stringify(header)}\n${items}${viewed.text}${bought.text}`
}

/** What the scheduled build writes: the model, then the small meta value a refresh checks first. */
export function modelKvEntries(doc: RecsModelDoc): [key: string, value: string][] {
  return [
    [MODEL_KEY, encodeModel(doc)],
    [MODEL_META_KEY, JSON.stringify({ version: doc.version, builtAt: doc.builtAt, format: MODEL_FORMAT })],
  ]
}

/**
 * The version of a stored model read from its first line, without decoding it; undefined for a
 * format 1 model (or not a model).
 */
export function storedVersion(text: string): string | undefined {
  if (!text.startsWith(MAGIC)) return undefined
  const end = text.indexOf('\n')
  if (end < 0 || end > MAGIC.length + 500) return undefined
  try {
    const v: unknown = JSON.parse(text.slice(MAGIC.length, end))
    return isStr(v, 200) ? v : undefined
  } catch {
    return undefined
  }
}

/** Whether the text is a format 1 model (one JSON document), whose decoding is eager and costly. */
export function isLegacyModel(text: string): boolean {
  return !text.startsWith(MAGIC)
}

/**
 * A stored model (format 2, or format 1 converted) into its index; undefined when it is not a
 * model. Format 2's structure is checked whole (lengths, offsets, numbers in range), its items
 * lazily: an item that fails the checks is never rendered, the model is kept.
 */
export function decodeModel(text: string): RecsIndex | undefined {
  if (isLegacyModel(text)) {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return undefined
    }
    return compileModel(value)
  }
  const version = storedVersion(text)
  const end = text.indexOf('\n')
  const headerEnd = text.indexOf('\n', end + 1)
  if (version === undefined || headerEnd < 0) return undefined
  let h: unknown
  try {
    h = JSON.parse(text.slice(end + 1, headerEnd))
  } catch {
    return undefined
  }
  if (!isRecord(h) || !Array.isArray(h.ids) || !Array.isArray(h.categories)) return undefined
  const n = h.ids.length
  if (n > MAX_MODEL_ITEMS || !h.ids.every((id) => isStr(id, 64)) || new Set(h.ids).size !== n) return undefined
  if (!h.categories.every((c) => isStr(c, 100))) return undefined
  const cat = ints(h.cat, n, -1, h.categories.length - 1)
  const itemEnds = ints(h.itemEnds, n, 0, text.length)
  const viewedEnds = ints(h.viewedEnds, n, 0, text.length)
  const boughtEnds = ints(h.boughtEnds, n, 0, text.length)
  const popular = ints(h.popular, undefined, 0, n - 1)
  const trending = ints(h.trending, undefined, 0, n - 1)
  if (!cat || !itemEnds || !viewedEnds || !boughtEnds || !popular || !trending) return undefined
  if (!ascending(itemEnds) || !ascending(viewedEnds) || !ascending(boughtEnds)) return undefined
  const body = headerEnd + 1
  const itemsLength = n === 0 ? 0 : (itemEnds[n - 1] as number)
  const viewedCount = n === 0 ? 0 : (viewedEnds[n - 1] as number)
  const boughtCount = n === 0 ? 0 : (boughtEnds[n - 1] as number)
  if (body + itemsLength + (viewedCount + boughtCount) * ENTRY_CHARS !== text.length) return undefined
  const byCategory = new Map<number, Int32Array>()
  if (!Array.isArray(h.popularByCategory)) return undefined
  for (const entry of h.popularByCategory) {
    if (!Array.isArray(entry)) return undefined
    const c = entry[0]
    const list = ints(entry[1], undefined, 0, n - 1)
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= h.categories.length || !list) return undefined
    byCategory.set(c, list)
  }
  const starts = (ends: Int32Array, at: number): Int32Array => {
    const s = new Int32Array(n + 1)
    s.set(ends, 1)
    for (let i = 0; i <= n; i++) s[i] = (s[i] as number) + at
    return s
  }
  const section = (ends: Int32Array, at: number): GraphSection => ({ starts: starts(ends, 0), at })
  const viewedAt = body + itemsLength
  return new RecsIndex({
    version,
    builtAt: typeof h.builtAt === 'string' ? h.builtAt : '',
    catalogVersion: typeof h.catalogVersion === 'string' ? h.catalogVersion : '',
    text,
    ids: h.ids as string[],
    categories: h.categories as string[],
    cat,
    itemStarts: starts(itemEnds, body),
    viewed: section(viewedEnds, viewedAt),
    bought: section(boughtEnds, viewedAt + viewedCount * ENTRY_CHARS),
    popular,
    trending,
    popularByCategory: byCategory,
  })
}

/** The index of a model document (the evaluation's model, tests): encoded and decoded as stored. */
export function indexModel(doc: RecsModelDoc): RecsIndex {
  const index = decodeModel(encodeModel(doc))
  if (index === undefined) throw new Error('the model did not index') // encodeModel's output always decodes
  return index
}

/**
 * The logical document of an index: what `encodeModel` was given, less what did not pass the
 * checks (for tests, and for reading a stored model by hand). Decodes every item: not for pages.
 */
export function modelDocOf(index: RecsIndex): RecsModelDoc {
  const items: CatalogItemDoc[] = []
  const graph = (g: 'viewed' | 'bought') => {
    const out: Record<string, Neighbour[]> = {}
    for (let i = 0; i < index.size; i++) {
      const list: Neighbour[] = []
      index.forEachNeighbour(g, i, (j, score) => list.push([index.id(j), score]))
      if (list.length > 0) out[index.id(i)] = list
    }
    return out
  }
  for (let i = 0; i < index.size; i++) {
    const item = index.item(i)
    if (item !== undefined) items.push(item)
  }
  const ids = (list: Int32Array) => Array.from(list, (i) => index.id(i))
  const popularByCategory: Record<string, string[]> = {}
  for (const [c, list] of index.categoryLists()) {
    const name = index.categoryName(c)
    if (name !== undefined) popularByCategory[name] = ids(list)
  }
  return {
    version: index.version,
    builtAt: index.builtAt,
    catalogVersion: index.catalogVersion,
    items,
    alsoViewed: graph('viewed'),
    alsoBought: graph('bought'),
    trending: ids(index.trending),
    popular: ids(index.popular),
    popularByCategory,
  }
}

const isStr = (v: unknown, max = 2000): v is string => typeof v === 'string' && v.length > 0 && v.length <= max

/** An array of integers in [min, max] (of `length` when given) as an Int32Array, else undefined. */
function ints(v: unknown, length: number | undefined, min: number, max: number): Int32Array | undefined {
  if (!Array.isArray(v) || (length !== undefined && v.length !== length)) return undefined
  const out = new Int32Array(v.length)
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i]
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) return undefined
    out[i] = x
  }
  return out
}

function ascending(a: Int32Array): boolean {
  for (let i = 1; i < a.length; i++) if ((a[i] as number) < (a[i - 1] as number)) return false
  return true
}

// Format 1: the first cron's single JSON document, checked as before and converted.

function legacyItem(v: unknown): CatalogItemDoc | undefined {
  if (!isRecord(v) || !isStr(v.id, 64) || !isStr(v.title, 500) || !isStr(v.url) || !isSafeUrl(v.url)) return undefined
  const out: CatalogItemDoc = { id: v.id, title: v.title, url: v.url }
  if (isStr(v.image) && isSafeUrl(v.image)) out.image = v.image
  if (isStr(v.category, 100)) out.category = v.category
  if ((typeof v.price === 'number' && Number.isFinite(v.price)) || isStr(v.price, 50)) out.price = v.price
  return out
}

function legacyNeighbours(v: unknown, items: ReadonlySet<string>): Record<string, Neighbour[]> {
  const out: Record<string, Neighbour[]> = {}
  if (!isRecord(v)) return out
  const valid = (n: unknown): n is Neighbour =>
    Array.isArray(n) && typeof n[0] === 'string' && items.has(n[0]) && typeof n[1] === 'number' && Number.isFinite(n[1])
  for (const [id, list] of Object.entries(v)) if (items.has(id) && Array.isArray(list)) out[id] = list.filter(valid)
  return out
}

const legacyIds = (v: unknown, items: ReadonlySet<string>): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && items.has(x)) : []

/**
 * A format 1 document (parsed JSON) into an index, or undefined when it is not a model. Tolerant
 * inside: an item that fails the checks (an unsafe URL) is dropped, with every reference to it.
 */
export function compileModel(value: unknown): RecsIndex | undefined {
  if (!isRecord(value) || !isStr(value.version, 200) || !Array.isArray(value.items)) return undefined
  const items: CatalogItemDoc[] = []
  const ids = new Set<string>()
  for (const v of value.items) {
    const i = legacyItem(v)
    if (i !== undefined && !ids.has(i.id) && items.length < MAX_MODEL_ITEMS) {
      ids.add(i.id)
      items.push(i)
    }
  }
  const byCategory: Record<string, string[]> = {}
  if (isRecord(value.popularByCategory))
    for (const [c, list] of Object.entries(value.popularByCategory)) byCategory[c] = legacyIds(list, ids)
  return indexModel({
    version: value.version,
    builtAt: typeof value.builtAt === 'string' ? value.builtAt : '',
    catalogVersion: typeof value.catalogVersion === 'string' ? value.catalogVersion : '',
    items,
    alsoViewed: legacyNeighbours(value.alsoViewed, ids),
    alsoBought: legacyNeighbours(value.alsoBought, ids),
    trending: legacyIds(value.trending, ids),
    popular: legacyIds(value.popular, ids),
    popularByCategory: byCategory,
  })
}
