/**
 * Item-to-item similarity from co-occurrence counts (SPEC 13), shared by the scheduled model
 * build and `veneer recs evaluate`. Cosine: `c(a,b) / sqrt(n(a)·n(b))`, with `n` the item's own
 * count, so two items that are merely both popular do not look alike (a raw co-occurrence count
 * would make the best sellers everyone's neighbours).
 */

/** The key of an unordered pair; ids never contain `\n`. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}\n${b}` : `${b}\n${a}`
}

export function splitPair(key: string): [string, string] {
  const i = key.indexOf('\n')
  return [key.slice(0, i), key.slice(i + 1)]
}

export type Neighbour = readonly [item: string, score: number]

export interface NeighbourOptions {
  /** Neighbours kept per item (default 20). */
  top?: number
  /** Pairs seen fewer times than this are noise and ignored (default 1). */
  minCount?: number
  /** Only these items get and are neighbours (e.g. the catalog); default all. */
  keep?: (item: string) => boolean
}

/** Each item's top neighbours by cosine similarity, best first (ties by id, so output is stable). */
export function topNeighbours(
  itemCounts: ReadonlyMap<string, number>,
  pairCounts: ReadonlyMap<string, number>,
  options: NeighbourOptions = {},
): Map<string, Neighbour[]> {
  const top = options.top ?? 20
  const minCount = options.minCount ?? 1
  const keep = options.keep ?? (() => true)
  const lists = new Map<string, Neighbour[]>()
  const add = (a: string, b: string, s: number) => {
    let l = lists.get(a)
    if (l === undefined) lists.set(a, (l = []))
    l.push([b, s])
  }
  for (const [key, c] of pairCounts) {
    if (c < minCount) continue
    const [a, b] = splitPair(key)
    if (a === b || !keep(a) || !keep(b)) continue
    const na = itemCounts.get(a) ?? 0
    const nb = itemCounts.get(b) ?? 0
    // A pair count above an item's own count (counts from different windows) is capped at 1.
    const s = na > 0 && nb > 0 ? Math.min(1, c / Math.sqrt(na * nb)) : 0
    if (s <= 0) continue
    add(a, b, s)
    add(b, a, s)
  }
  for (const [item, l] of lists) {
    l.sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    if (l.length > top) lists.set(item, l.slice(0, top))
  }
  return lists
}

/** Items by count, highest first (ties by id). */
export function byCount(
  counts: ReadonlyMap<string, number>,
  limit: number,
  keep: (item: string) => boolean = () => true,
): string[] {
  return [...counts]
    .filter(([item, n]) => n > 0 && keep(item))
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .slice(0, limit)
    .map(([item]) => item)
}
