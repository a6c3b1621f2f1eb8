import { seededRng } from '../../src/util/random'
/**
 * A synthetic history with planted item groups, for `recs evaluate` (known truth): items fall
 * into groups; a visitor belongs to one group and views mostly its items, sometimes the
 * catalog's best sellers. Item popularity is Zipf-like over the whole catalog, so a popularity
 * ranking is a real baseline. Seeded: the same options give the same CSV.
 */
export interface PlantedOptions {
  seed?: number
  groups?: number
  itemsPerGroup?: number
  visitors?: number
  /** Share of a visitor's views inside their group (default 0.8). */
  inGroup?: number
}

/** Draws an index 0..weights.length-1 with probability proportional to its weight. */
function draw(random: () => number, cumulative: readonly number[]): number {
  const total = cumulative[cumulative.length - 1] ?? 0
  const x = random() * total
  let lo = 0
  let hi = cumulative.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((cumulative[mid] ?? 0) > x) hi = mid
    else lo = mid + 1
  }
  return lo
}

const cumulate = (w: number[]) => {
  let s = 0
  return w.map((x) => (s += x))
}

export function plantedCsv(o: PlantedOptions = {}): string {
  const random = seededRng(o.seed ?? 1)
  const groups = o.groups ?? 10
  const per = o.itemsPerGroup ?? 20
  const visitors = o.visitors ?? 2000
  const inGroup = o.inGroup ?? 0.8
  const n = groups * per
  // Zipf popularity over a random order of the catalog.
  const order = [...Array(n).keys()].sort(() => random() - 0.5)
  const popularity = new Array<number>(n).fill(0)
  order.forEach((item, rank) => {
    popularity[item] = 1 / (rank + 1)
  })
  const all = cumulate(popularity)
  const inside = [...Array(groups).keys()].map((g) => cumulate(popularity.slice(g * per, (g + 1) * per)))
  const lines = ['visitor,item,timestamp']
  let t = Date.UTC(2026, 10, 1)
  for (let v = 0; v < visitors; v++) {
    const g = Math.floor(random() * groups)
    const views = 3 + Math.floor(random() * 6)
    for (let e = 0; e < views; e++) {
      const item = random() < inGroup ? g * per + draw(random, inside[g] as number[]) : draw(random, all)
      t += 1000 + Math.floor(random() * 60_000)
      lines.push(`v${v},item-${item},${new Date(t).toISOString()}`)
    }
  }
  return `${lines.join('\n')}\n`
}
