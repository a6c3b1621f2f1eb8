import { kmeans } from 'ml-kmeans'

/**
 * k-means over standardised features: ml-kmeans (k-means++ seeding, Lloyd iterations) run from
 * several seeds, the run with the least within-cluster sum of squares kept; silhouette to pick k.
 */

/** A small seeded PRNG (mulberry32): the same seed gives the same subsample everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
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
}

/** Runs k-means `restarts` times from seeds derived from `seed`; keeps the least inertia. */
export function clusterKmeans(scaled: number[][], k: number, opts: KmeansOptions = {}): Clustering {
  const restarts = Math.max(1, opts.restarts ?? 4)
  const base = opts.seed ?? 1
  let best: Clustering | undefined
  for (let r = 0; r < restarts; r++) {
    const result = kmeans(scaled, k, { seed: base * 7919 + r, initialization: 'kmeans++', maxIterations: 300 })
    let inertia = 0
    for (let i = 0; i < scaled.length; i++)
      inertia += sqDist(scaled[i] as number[], result.centroids[result.clusters[i] as number] as number[])
    if (best === undefined || inertia < best.inertia - 1e-9)
      best = { k, labels: [...result.clusters], centroids: result.centroids.map((c) => [...c]), inertia }
  }
  return relabelBySize(best as Clustering)
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
 * cluster; 0 for a point alone in its cluster. O(n²): above SILHOUETTE_SAMPLE rows it is computed
 * on a seeded subsample.
 */
export function silhouette(scaled: readonly (readonly number[])[], labels: readonly number[], k: number, seed = 1): number {
  let idx = scaled.map((_, i) => i)
  if (idx.length > SILHOUETTE_SAMPLE) {
    const rand = seededRandom(seed)
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      const t = idx[i] as number
      idx[i] = idx[j] as number
      idx[j] = t
    }
    idx = idx.slice(0, SILHOUETTE_SAMPLE)
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
export function chooseK(scaled: number[][], kMin: number, kMax: number, opts: KmeansOptions = {}): ChooseResult {
  let best: ChooseResult | undefined
  const tried: { k: number; silhouette: number }[] = []
  for (let k = kMin; k <= kMax; k++) {
    const c = clusterKmeans(scaled, k, opts)
    const s = silhouette(scaled, c.labels, k, opts.seed)
    tried.push({ k, silhouette: s })
    if (best === undefined || s > best.silhouette + 1e-12) best = { best: c, silhouette: s, tried }
  }
  if (best === undefined) throw new RangeError('no k to try')
  return { ...best, tried }
}
