import type { CatalogItemDoc } from './catalog'
import { isSafeUrl } from './url'

/** The two neighbour graphs of a model. */
export type Graph = 'viewed' | 'bought'

/** Characters of one neighbour entry in a graph section: item index (3) and score (4), base64url. */
export const ENTRY_CHARS = 7
/** Scores are stored in millionths (the build rounds them so), 4 base64 digits: at most 16.77. */
export const SCORE_SCALE = 1e6
export const MAX_SCORE_UNITS = 64 ** 4 - 1
/** Items a model can index (3 base64 digits). */
export const MAX_MODEL_ITEMS = 64 ** 3

export const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const DIGIT = new Int8Array(128).fill(-1)
for (let i = 0; i < B64.length; i++) DIGIT[B64.charCodeAt(i)] = i

/** The stored sections of one graph: entry offsets per item (n + 1) and where its entries start. */
export interface GraphSection {
  /** Entry index where item i's neighbours start; item i's end is `ends[i + 1]`. */
  starts: Int32Array
  /** Offset of the first entry's first character in the model text. */
  at: number
}

/** What the decoder hands the index: validated tables, and the text the lazy parts stay in. */
export interface IndexParts {
  version: string
  builtAt: string
  catalogVersion: string
  text: string
  ids: readonly string[]
  categories: readonly string[]
  /** Category of each item (index into `categories`), -1 for none. */
  cat: Int32Array
  /** Item i's JSON (`[title, url, image, price]`) is `text.slice(itemStarts[i], itemStarts[i + 1])`. */
  itemStarts: Int32Array
  viewed: GraphSection
  bought: GraphSection
  popular: Int32Array
  trending: Int32Array
  popularByCategory: ReadonlyMap<number, Int32Array>
}

const isStr = (v: unknown, max = 2000): v is string => typeof v === 'string' && v.length > 0 && v.length <= max

/**
 * The model compiled for the hot path (SPEC 13), compact and lazy: items are numbers, the
 * tables typed arrays, and each item's fields and neighbours stay in the stored text until a
 * request uses them, so loading costs a pass over the ids and a page costs only the items it
 * looks at. An item whose fields fail the checks (an unsafe URL) is never rendered.
 */
export class RecsIndex {
  readonly version: string
  readonly builtAt: string
  readonly catalogVersion: string
  readonly size: number
  readonly popular: Int32Array
  readonly trending: Int32Array
  private readonly text: string
  private readonly ids: readonly string[]
  private readonly byId: Map<string, number>
  private readonly categories: readonly string[]
  private readonly cat: Int32Array
  private readonly itemStarts: Int32Array
  private readonly graphs: Readonly<Record<Graph, GraphSection>>
  private readonly byCategory: ReadonlyMap<number, Int32Array>
  /** Decoded items: undefined not yet, null not renderable. */
  private readonly decoded: (CatalogItemDoc | null | undefined)[]

  constructor(p: IndexParts) {
    this.version = p.version
    this.builtAt = p.builtAt
    this.catalogVersion = p.catalogVersion
    this.text = p.text
    this.ids = p.ids
    this.size = p.ids.length
    this.byId = new Map()
    for (let i = 0; i < p.ids.length; i++) this.byId.set(p.ids[i] as string, i)
    this.categories = p.categories
    this.cat = p.cat
    this.itemStarts = p.itemStarts
    this.graphs = { viewed: p.viewed, bought: p.bought }
    this.popular = p.popular
    this.trending = p.trending
    this.byCategory = p.popularByCategory
    this.decoded = new Array(this.size)
  }

  indexOf(id: string): number | undefined {
    return this.byId.get(id)
  }

  id(i: number): string {
    return this.ids[i] as string
  }

  /** The item's category number (-1: none), for the per-category cap without decoding it. */
  category(i: number): number {
    return this.cat[i] ?? -1
  }

  categoryName(c: number): string | undefined {
    return this.categories[c]
  }

  /** The popular list of a category (most viewed first). */
  popularIn(c: number): Int32Array | undefined {
    return this.byCategory.get(c)
  }

  /** Every category's popular list, by category number. */
  categoryLists(): IterableIterator<[number, Int32Array]> {
    return this.byCategory.entries()
  }

  /** The item to render, decoded and checked once; undefined when it is not renderable. */
  item(i: number): CatalogItemDoc | undefined {
    let v = this.decoded[i]
    if (v === undefined) {
      v = this.decode(i)
      this.decoded[i] = v
    }
    return v ?? undefined
  }

  /** Calls `visit` with each neighbour of item i in the graph, best first (as stored). */
  forEachNeighbour(graph: Graph, i: number, visit: (j: number, score: number) => void): void {
    const g = this.graphs[graph]
    const from = g.starts[i]
    const to = g.starts[i + 1]
    if (from === undefined || to === undefined) return
    const t = this.text
    for (let e = from; e < to; e++) {
      const o = g.at + e * ENTRY_CHARS
      const j = digits(t, o, 3)
      const units = digits(t, o + 3, 4)
      if (j >= 0 && j < this.size && j !== i && units > 0) visit(j, units / SCORE_SCALE)
    }
  }

  private decode(i: number): CatalogItemDoc | null {
    const from = this.itemStarts[i]
    const to = this.itemStarts[i + 1]
    if (from === undefined || to === undefined) return null
    let v: unknown
    try {
      v = JSON.parse(this.text.slice(from, to))
    } catch {
      return null
    }
    if (!Array.isArray(v)) return null
    const [title, url, image, price] = v as unknown[]
    if (!isStr(title, 500) || !isStr(url) || !isSafeUrl(url)) return null
    const out: CatalogItemDoc = { id: this.id(i), title, url }
    if (isStr(image) && isSafeUrl(image)) out.image = image
    const category = this.categories[this.category(i)]
    if (category !== undefined) out.category = category
    if ((typeof price === 'number' && Number.isFinite(price)) || isStr(price, 50)) out.price = price
    return out
  }
}

/** `n` base64url digits at `at`, most significant first; -1 if any is not a digit. */
export function digits(text: string, at: number, n: number): number {
  let v = 0
  for (let k = 0; k < n; k++) {
    const c = text.charCodeAt(at + k)
    const d = c < 128 ? (DIGIT[c] ?? -1) : -1
    if (d < 0) return -1
    v = v * 64 + d
  }
  return v
}

const B64_BYTES = new TextEncoder().encode(B64)

/** Writes `v` (0 ≤ v < 64^n, n ≤ 5) as `n` base64url digits (ASCII) at `at`. */
export function putDigits(out: Uint8Array, at: number, v: number, n: number): void {
  for (let k = 0; k < n; k++) out[at + k] = B64_BYTES[(v >>> (6 * (n - 1 - k))) & 63] as number
}
