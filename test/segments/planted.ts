import { seededRng } from '../../src/util/random'

/**
 * Generated visitor samples with known truth: `k` behaviour profiles (clusters) with noise, in
 * the SPEC 15 CSV columns, plus the true label of each row.
 */
export interface Planted {
  header: string[]
  rows: number[][]
  labels: number[]
}

interface Profile {
  pageViews: [number, number]
  cartAdds: [number, number]
  purchases: [number, number]
  sessions: [number, number]
  days: [number, number]
  /** Probability of a mobile device. */
  mobile: number
}

/** Five distinct behaviours; the first k are used. Means and spreads in real units. */
const PROFILES: Profile[] = [
  { pageViews: [3, 1.2], cartAdds: [0, 0.3], purchases: [0, 0.2], sessions: [1.5, 0.6], days: [2, 1.5], mobile: 0.85 },
  { pageViews: [45, 7], cartAdds: [6, 1.5], purchases: [4, 1], sessions: [14, 3], days: [150, 30], mobile: 0.2 },
  { pageViews: [18, 3], cartAdds: [4, 1], purchases: [0, 0.2], sessions: [4, 1], days: [20, 6], mobile: 0.5 },
  { pageViews: [28, 4], cartAdds: [0.3, 0.5], purchases: [0, 0.2], sessions: [9, 1.5], days: [70, 12], mobile: 0.15 },
  { pageViews: [10, 2], cartAdds: [1, 0.7], purchases: [1, 0.4], sessions: [3, 1], days: [300, 25], mobile: 0.9 },
]

export const PLANTED_HEADER = [
  'visitor',
  'behavior.pageViews',
  'behavior.cartAdds',
  'behavior.purchases',
  'visitor.sessions',
  'visitor.daysSinceFirstSeen',
  'device.type=mobile',
  'device.type=desktop',
  'geo.continent=EU',
]

/** `n` rows from `k` profiles with the given shares (equal when omitted). */
export function plantedSample(k: number, n: number, seed: number, shares?: number[]): Planted {
  const rand = seededRng(seed)
  const normal = (): number => {
    const u = 1 - rand()
    const v = rand()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  const count = (m: number, s: number) => Math.max(0, Math.round(m + s * normal()))
  const w = shares ?? new Array<number>(k).fill(1 / k)
  const rows: number[][] = []
  const labels: number[] = []
  for (let i = 0; i < n; i++) {
    let u = rand()
    let c = 0
    while (c < k - 1 && u >= (w[c] as number)) {
      u -= w[c] as number
      c++
    }
    const p = PROFILES[c] as Profile
    const mobile = rand() < p.mobile ? 1 : 0
    rows.push([
      count(...p.pageViews),
      count(...p.cartAdds),
      count(...p.purchases),
      Math.max(1, count(...p.sessions)),
      count(...p.days),
      mobile,
      1 - mobile,
      rand() < 0.4 ? 1 : 0,
    ])
    labels.push(c)
  }
  return { header: PLANTED_HEADER, rows, labels }
}

export function toCsv(p: Planted): string {
  return [p.header.join(','), ...p.rows.map((r, i) => `v${i},${r.join(',')}`)].join('\n')
}

/** Adjusted Rand index (Hubert & Arabie 1985), from the contingency table. */
export function adjustedRandIndex(a: readonly number[], b: readonly number[]): number {
  const n = a.length
  const table = new Map<string, number>()
  const ra = new Map<number, number>()
  const rb = new Map<number, number>()
  for (let i = 0; i < n; i++) {
    const x = a[i] as number
    const y = b[i] as number
    table.set(`${x},${y}`, (table.get(`${x},${y}`) ?? 0) + 1)
    ra.set(x, (ra.get(x) ?? 0) + 1)
    rb.set(y, (rb.get(y) ?? 0) + 1)
  }
  const c2 = (m: number) => (m * (m - 1)) / 2
  let index = 0
  for (const v of table.values()) index += c2(v)
  let sa = 0
  for (const v of ra.values()) sa += c2(v)
  let sb = 0
  for (const v of rb.values()) sb += c2(v)
  const expected = (sa * sb) / c2(n)
  const max = (sa + sb) / 2
  return max === expected ? 1 : (index - expected) / (max - expected)
}
