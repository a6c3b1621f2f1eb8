import { seededRng } from '../util/random'
/**
 * k-means over standardised features: k-means++ seeding (Arthur & Vassilvitskii 2007) then Lloyd
 * iterations, run from several seeds, the run with the least within-cluster sum of squares kept;
 * silhouette to pick k. Every distance computed is counted in a {@link Work} counter, so a caller
 * (a request: src/routes/segments.ts) can bound the work by its parameters and tests can check it.
 */

/** Distance computations done so far (each over all the columns). */
export interface Work {
  distances: number
}

export interface Scaling {
  mean: number[]
  /** Standard deviation (population); 1 where a column is constant, so it stays 0 after scaling. */
  sd: number[]
}

/** z-scores per column, so a count in the hundreds does not drown a 0/1 column. */
export function standardise(rows: readonly (readonly number[])[]): { scaled: number[][]; scaling: Scaling } {
  const d = rows[0]?.length ?? 0
  const n = rows.length
  const mean = new Array<number>(d).fill(0)
  const sd = new Array<number>(d).fill(0)
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (r[j] as number) / n
  for (const r of rows) for (let j = 0; j < d; j++) sd[j] = (sd[j] as number) + ((r[j] as number) - (mean[j] as number)) ** 2 / n
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(sd[j] as number)
    sd[j] = s > 1e-12 ? s : 1
  }
  const scaled = rows.map((r) => r.map((v, j) => (v - (mean[j] as number)) / (sd[j] as number)))
  return { scaled, scaling: { mean, sd } }
}

function sqDist(a: readonly number[], b: readonly number[]): number {
  let s = 0
  for (let j = 0; j < a.length; j++) {
    const diff = (a[j] as number) - (b[j] as number)
    s += diff * diff
  }
  return s
}

export interface Clustering {
  k: number
  labels: number[]
  /** Centroids in the scaled space. */
  centroids: number[][]
  /** Within-cluster sum of squared distances. */
  inertia: number
}

export interface KmeansOptions {
  seed?: number
  /** Independent k-means++ starts; the best (least inertia) is kept. */
  restarts?: number
  /** Lloyd iterations per start at most (default 300); a start stops earlier when no label changes. */
  maxIterations?: number
  /** Counts distance computations (added to). */
  work?: Work
}

/** Rows as one flat array (row-major), for the inner loops. */
function flatten(rows: readonly (readonly number[])[], d: number): Float64Array {
  const flat = new Float64Array(rows.length * d)
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) flat[i * d + j] = r[j] as number
  })
  return flat
}

/** Squared distance between row i of `a` and row c of `b` (both flat, `d` columns). */
function flatDist(a: Float64Array, i: number, b: Float64Array, c: number, d: number): number {
  let s = 0
  const oi = i * d
  const oc = c * d
  for (let j = 0; j < d; j++) {
    const diff = (a[oi + j] as number) - (b[oc + j] as number)
    s += diff * diff
  }
  return s
}

/** One k-means++ start and its Lloyd iterations. Distances: n·k seeding + n·k per iteration + n for the inertia. */
function lloyd(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  rand: () => number,
  maxIterations: number,
  work: Work,
): Clustering {
  const cent = new Float64Array(k * d)
  const setCentre = (c: number, i: number) => {
    for (let j = 0; j < d; j++) cent[c * d + j] = x[i * d + j] as number
  }
  // k-means++: the first centre uniformly, each next one with probability ∝ D² to the nearest so far.
  const d2 = new Float64Array(n).fill(Number.POSITIVE_INFINITY)
  setCentre(0, Math.floor(rand() * n))
  for (let c = 1; c < k; c++) {
    let total = 0
    for (let i = 0; i < n; i++) {
      const dist = flatDist(x, i, cent, c - 1, d)
      if (dist < (d2[i] as number)) d2[i] = dist
      total += d2[i] as number
    }
    work.distances += n
    let pick = 0
    if (total > 0) {
      let u = rand() * total
      for (pick = 0; pick < n - 1; pick++) {
        u -= d2[pick] as number
        if (u < 0) break
      }
    } else pick = Math.floor(rand() * n)
    setCentre(c, pick)
  }
  const labels = new Int32Array(n).fill(-1)
  const dist = new Float64Array(n)
  const sums = new Float64Array(k * d)
  const counts = new Float64Array(k)
  for (let iter = 0; iter < maxIterations; iter++) {
    let changed = 0
    for (let i = 0; i < n; i++) {
      let best = 0
      let bestD = Number.POSITIVE_INFINITY
      for (let c = 0; c < k; c++) {
        const dd = flatDist(x, i, cent, c, d)
        if (dd < bestD) {
          bestD = dd
          best = c
        }
      }
      dist[i] = bestD
      if (labels[i] !== best) {
        labels[i] = best
        changed++
      }
    }
    work.distances += n * k
    if (changed === 0) break
    sums.fill(0)
    counts.fill(0)
    for (let i = 0; i < n; i++) {
      const l = labels[i] as number
      counts[l] = (counts[l] as number) + 1
      for (let j = 0; j < d; j++) sums[l * d + j] = (sums[l * d + j] as number) + (x[i * d + j] as number)
    }
    for (let c = 0; c < k; c++) {
      const m = counts[c] as number
      if (m > 0) for (let j = 0; j < d; j++) cent[c * d + j] = (sums[c * d + j] as number) / m
      else {
        // An empty cluster takes the point farthest from its centre (as scikit-learn does).
        let far = 0
        for (let i = 1; i < n; i++) if ((dist[i] as number) > (dist[far] as number)) far = i
        setCentre(c, far)
        dist[far] = 0
      }
    }
  }
  let inertia = 0
  for (let i = 0; i < n; i++) inertia += flatDist(x, i, cent, labels[i] as number, d)
  work.distances += n
  const centroids = Array.from({ length: k }, (_, c) => Array.from(cent.subarray(c * d, (c + 1) * d)))
  return { k, labels: Array.from(labels), centroids, inertia }
}

/** Runs k-means `restarts` times from seeds derived from `seed`; keeps the least inertia. */
export function clusterKmeans(scaled: number[][], k: number, opts: KmeansOptions = {}): Clustering {
  const restarts = Math.max(1, opts.restarts ?? 4)
  const base = opts.seed ?? 1
  const work = opts.work ?? { distances: 0 }
  const maxIterations = Math.max(1, opts.maxIterations ?? 300)
  const d = scaled[0]?.length ?? 0
  const x = flatten(scaled, d)
  let best: Clustering | undefined
  for (let r = 0; r < restarts; r++) {
    const result = lloyd(x, scaled.length, d, k, seededRng(base * 7919 + r), maxIterations, work)
    if (best === undefined || result.inertia < best.inertia - 1e-9) best = result
  }
  return relabelBySize(best as Clustering)
}

/** The nearest centroid of each row (n·k distances). */
export function nearestCentroid(
  scaled: readonly (readonly number[])[],
  centroids: readonly (readonly number[])[],
  work?: Work,
): number[] {
  if (work !== undefined) work.distances += scaled.length * centroids.length
  return scaled.map((row) => {
    let best = 0
    let bestD = Number.POSITIVE_INFINITY
    centroids.forEach((c, i) => {
      const d = sqDist(row, c)
      if (d < bestD) {
        bestD = d
        best = i
      }
    })
    return best
  })
}

/** Cluster 0 is the largest: ids are stable across seeds that find the same partition. */
function relabelBySize(c: Clustering): Clustering {
  const sizes = new Array<number>(c.k).fill(0)
  for (const l of c.labels) sizes[l] = (sizes[l] as number) + 1
  const order = sizes.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
  const map = new Array<number>(c.k)
  order.forEach(([, old], neu) => {
    map[old] = neu
  })
  return {
    k: c.k,
    labels: c.labels.map((l) => map[l] as number),
    centroids: order.map(([, old]) => c.centroids[old] as number[]),
    inertia: c.inertia,
  }
}

/** Rows the silhouette is computed on at most; above this, a seeded subsample (as scikit-learn's `sample_size`). */
export const SILHOUETTE_SAMPLE = 2000

/**
 * Mean silhouette coefficient (Rousseeuw 1987) with Euclidean distance: for each point,
 * (b − a) / max(a, b), a = mean distance within its cluster, b = least mean distance to another
 * cluster; 0 for a point alone in its cluster. O(n²): above `sampleSize` rows (default
 * SILHOUETTE_SAMPLE) it is computed on a seeded subsample of that many rows.
 */
export function silhouette(
  scaled: readonly (readonly number[])[],
  labels: readonly number[],
  k: number,
  seed = 1,
  sampleSize = SILHOUETTE_SAMPLE,
  work?: Work,
): number {
  let idx = scaled.map((_, i) => i)
  if (idx.length > sampleSize) {
    const rand = seededRng(seed)
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      const t = idx[i] as number
      idx[i] = idx[j] as number
      idx[j] = t
    }
    idx = idx.slice(0, sampleSize)
  }
  // Flat copies, and each pair's distance computed once for both points (symmetric).
  const m = idx.length
  const d = scaled[0]?.length ?? 0
  const flat = new Float64Array(m * d)
  const lab = new Int32Array(m)
  idx.forEach((i, p) => {
    lab[p] = labels[i] as number
    const row = scaled[i] as readonly number[]
    for (let j = 0; j < d; j++) flat[p * d + j] = row[j] as number
  })
  const counts = new Float64Array(k)
  for (let p = 0; p < m; p++) {
    const l = lab[p] as number
    counts[l] = (counts[l] as number) + 1
  }
  // sums[p * k + l]: total distance from point p to the points of cluster l.
  const sums = new Float64Array(m * k)
  if (work !== undefined) work.distances += (m * (m - 1)) / 2
  for (let p = 0; p < m; p++) {
    const lp = lab[p] as number
    for (let q = p + 1; q < m; q++) {
      let s = 0
      for (let j = 0; j < d; j++) {
        const diff = (flat[p * d + j] as number) - (flat[q * d + j] as number)
        s += diff * diff
      }
      const dist = Math.sqrt(s)
      const pq = p * k + (lab[q] as number)
      const qp = q * k + lp
      sums[pq] = (sums[pq] as number) + dist
      sums[qp] = (sums[qp] as number) + dist
    }
  }
  let total = 0
  for (let p = 0; p < m; p++) {
    const own = lab[p] as number
    const ownCount = (counts[own] as number) - 1
    if (ownCount === 0) continue
    const a = (sums[p * k + own] as number) / ownCount
    let b = Number.POSITIVE_INFINITY
    for (let l = 0; l < k; l++)
      if (l !== own && (counts[l] as number) > 0) b = Math.min(b, (sums[p * k + l] as number) / (counts[l] as number))
    if (!Number.isFinite(b)) continue
    const mx = Math.max(a, b)
    total += mx > 0 ? (b - a) / mx : 0
  }
  return total / idx.length
}

/** Distinct rows, capped at `cap`: k cannot exceed it. */
export function distinctRows(rows: readonly (readonly number[])[], cap: number): number {
  const seen = new Set<string>()
  for (const r of rows) {
    seen.add(r.join(','))
    if (seen.size >= cap) break
  }
  return seen.size
}

export interface ChooseResult {
  best: Clustering
  silhouette: number
  /** Silhouette per k tried, for the report. */
  tried: { k: number; silhouette: number }[]
}

/** Tries each k in [kMin, kMax] and keeps the highest silhouette (the smaller k on a tie). */
export function chooseK(
  scaled: number[][],
  kMin: number,
  kMax: number,
  opts: KmeansOptions & { silhouetteRows?: number } = {},
): ChooseResult {
  let best: ChooseResult | undefined
  const tried: { k: number; silhouette: number }[] = []
  for (let k = kMin; k <= kMax; k++) {
    const c = clusterKmeans(scaled, k, opts)
    const s = silhouette(scaled, c.labels, k, opts.seed, opts.silhouetteRows, opts.work)
    tried.push({ k, silhouette: s })
    if (best === undefined || s > best.silhouette + 1e-12) best = { best: c, silhouette: s, tried }
  }
  if (best === undefined) throw new RangeError('no k to try')
  return { ...best, tried }
}
