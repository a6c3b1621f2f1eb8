import { seededRng } from '../util/random'
import type { ConditionDoc } from '../rules/schema'
import {
  chooseK,
  clusterKmeans,
  distinctRows,
  nearestCentroid,
  silhouette as silhouetteOf,
  standardise,
  type Work,
} from './cluster'
import { agreement, pathsCondition } from './describe'
import { rowContext, type Sample, SampleError } from './features'
import { fitTree, positivePaths } from './tree'

/** SPEC 15 output of `veneer segments discover` (and the dashboard). */
export interface DiscoveredCluster {
  id: number
  size: number
  /** size / rows. */
  share: number
  /** The cluster's mean per feature, in the sample's own units. */
  centroid: Record<string, number>
  /** A readable condition (depth ≤ 3 tree); null when no column can be described. */
  when: ConditionDoc | null
  /** How well `when`, evaluated by Veneer's own evaluator, agrees with membership (all rows). */
  accuracy: number
  precision: number
  recall: number
}

export interface DiscoverResult {
  k: number
  silhouette: number
  /** Rows clustered and described (a seeded subsample of `sampledFrom` when that is set). */
  rows: number
  /** With `maxRows`: the rows of the sample before subsampling. */
  sampledFrom?: number
  /** Distance computations done (k-means, silhouette, assignments): the bounded part of the work. */
  work: Work
  clusters: DiscoveredCluster[]
  /** Silhouette per k tried (with `--k auto`). */
  tried?: { k: number; silhouette: number }[]
  /** Columns clustered on that no condition can name (not context attributes). */
  undescribed: string[]
  /** The UTC day `visitor.firstSeen` dates in conditions count back from. */
  asOf: string
  assignments?: number[]
}

export interface DiscoverOptions {
  /** A number of clusters, or 'auto' for the best silhouette over k = 2…8. */
  k?: number | 'auto'
  seed?: number
  restarts?: number
  assign?: boolean
  /** ms since epoch; the day of the sample (default now). */
  asOf?: number
  maxDepth?: number
  /** Lloyd iterations per k-means start at most (default 300). */
  maxIterations?: number
  /** Cluster a seeded subsample of at most this many rows (default: all). */
  maxRows?: number
  /** Rows the silhouette is computed on at most (default SILHOUETTE_SAMPLE, 2,000). */
  silhouetteRows?: number
}

/**
 * The bounded settings of a discovery inside a request (api/segments/discover, the dashboard's
 * "recompute now") and the scheduled job: 1,000 rows, 2 starts of at most 25 iterations, the
 * silhouette on 300 rows. Work at most, for k = auto: Σ over k = 2…8 of 2 × (k + 25k + 1) × 1,000
 * distances for k-means, 7 × 300·299/2 for the silhouette, plus the assignments of `--assign`:
 * {@link requestWorkBound}. The CLI keeps the unbounded defaults (all rows, 4 starts, 300
 * iterations, silhouette on 2,000 rows). Measured with `node bench/segments.mjs` (docs/segments.md).
 */
export const REQUEST_DISCOVERY = { maxRows: 1000, restarts: 2, maxIterations: 25, silhouetteRows: 300 } as const

/** The most distance computations a discovery with REQUEST_DISCOVERY does on `n` rows (with `assign`: all n assigned). */
export function requestWorkBound(n: number, assign = false): number {
  const { maxRows, restarts, maxIterations, silhouetteRows } = REQUEST_DISCOVERY
  const m = Math.min(n, maxRows)
  const s = Math.min(m, silhouetteRows)
  let total = 0
  for (let k = K_MIN; k <= K_MAX; k++) total += restarts * (k + maxIterations * k + 1) * m + (s * (s - 1)) / 2
  return total + (assign && n > maxRows ? n * K_MAX : 0)
}

export const K_MIN = 2
export const K_MAX = 8
/** Fewer rows than this cannot say anything about clusters. */
export const MIN_ROWS = 20

const nonNegative = new WeakMap<readonly (readonly number[])[], boolean[]>()
/** log1p for a column that is never negative (a count, days), the value itself otherwise. */
function transform(row: readonly number[], j: number, rows: readonly (readonly number[])[]): number {
  let flags = nonNegative.get(rows)
  if (flags === undefined) {
    const d = rows[0]?.length ?? 0
    flags = new Array<boolean>(d).fill(true)
    for (const r of rows) for (let c = 0; c < d; c++) if ((r[c] as number) < 0) flags[c] = false
    nonNegative.set(rows, flags)
  }
  const v = row[j] as number
  return flags[j] ? Math.log1p(v) : v
}

const round = (v: number, digits = 4): number => Number(v.toFixed(digits))

/** Clusters a sample and describes each cluster with a Veneer condition. */
export function discover(sample: Sample, opts: DiscoverOptions = {}): DiscoverResult {
  const { features } = sample
  const all = sample.rows.length
  if (all < MIN_ROWS) throw new SampleError(`${all} rows: at least ${MIN_ROWS} are needed to find clusters`)
  const work: Work = { distances: 0 }
  // Bounded work: a seeded subsample of at most maxRows rows is clustered and described.
  const subsample = opts.maxRows !== undefined && all > opts.maxRows ? pick(all, opts.maxRows, opts.seed ?? 1) : undefined
  const source = subsample === undefined ? sample.rows : subsample.map((i) => sample.rows[i] as number[])
  const n = source.length
  // Days since first seen are whole days (conditions compare dates).
  const wholeDays = (r: readonly number[]) => r.map((v, j) => (features[j]?.spec.kind === 'daysSince' ? Math.floor(v) : v))
  const rows = source.map(wholeDays)
  const asOf = opts.asOf ?? Date.now()
  const seed = opts.seed ?? 1
  const restarts = opts.restarts ?? 4
  // Distances use the behaviour columns (counts, days): one-hot columns (device, continent) would
  // split every cluster by device or continent once standardised, as 0/1 columns sit 2 sd apart.
  // They still describe clusters. Counts are log1p'd: engagement is heavy-tailed, and a few
  // heavy users would otherwise become clusters of their own.
  const numericCols = features.flatMap((f, j) => (f.spec.kind === 'oneHot' ? [] : [j]))
  const distanceCols = numericCols.length > 0 ? numericCols : features.map((_, j) => j)
  const space = rows.map((r) => distanceCols.map((j) => transform(r, j, rows)))
  const distinct = distinctRows(space, K_MAX + 1)
  const { scaled, scaling } = standardise(space)
  const kmeansOpts = { seed, restarts, maxIterations: opts.maxIterations, work }

  let clustering: ReturnType<typeof clusterKmeans>
  let sil: number
  let tried: { k: number; silhouette: number }[] | undefined
  const requested = opts.k ?? 'auto'
  if (requested === 'auto') {
    const kMax = Math.min(K_MAX, distinct)
    if (kMax < K_MIN) throw new SampleError('every row is the same: there is nothing to cluster')
    const chosen = chooseK(scaled, K_MIN, kMax, { ...kmeansOpts, silhouetteRows: opts.silhouetteRows })
    clustering = chosen.best
    sil = chosen.silhouette
    tried = chosen.tried
  } else {
    if (!Number.isInteger(requested) || requested < 1 || requested > 50)
      throw new SampleError('k is a whole number from 1 to 50, or "auto"')
    if (requested > distinct) throw new SampleError(`k = ${requested} but the sample has only ${distinct} distinct rows`)
    clustering = clusterKmeans(scaled, requested, kmeansOpts)
    sil = requested === 1 ? 0 : silhouetteOf(scaled, clustering.labels, requested, seed, opts.silhouetteRows, work)
  }

  const usable = features.flatMap((f, j) => (f.spec.kind === 'opaque' ? [] : [j]))
  const minLeaf = Math.max(5, Math.floor(n * 0.005))
  const clusters: DiscoveredCluster[] = []
  // Each row's context once, for every cluster's agreement check.
  const contexts = usable.length > 0 ? rows.map((r) => rowContext(features, r, asOf)) : []
  for (let c = 0; c < clustering.k; c++) {
    const members = clustering.labels.map((l) => l === c)
    const size = members.filter(Boolean).length
    const centroid: Record<string, number> = {}
    features.forEach((f, j) => {
      let s = 0
      rows.forEach((r, i) => {
        if (members[i]) s += r[j] as number
      })
      centroid[f.name] = round(size === 0 ? 0 : s / size)
    })
    let when: ConditionDoc | null = null
    let fit = { accuracy: 0, precision: 0, recall: 0 }
    if (usable.length > 0 && size > 0) {
      const tree = fitTree(
        rows,
        members.map((m) => (m ? 1 : 0)),
        usable,
        { maxDepth: opts.maxDepth ?? 3, minLeaf },
      )
      when = pathsCondition(positivePaths(tree), features, asOf)
      fit = agreement(when, features, rows, members, asOf, contexts)
    }
    clusters.push({
      id: c,
      size,
      share: round(size / n),
      centroid,
      when,
      accuracy: round(fit.accuracy),
      precision: round(fit.precision),
      recall: round(fit.recall),
    })
  }
  // Assignments of every input row: the clustered ones keep their label; with a subsample, each
  // row goes to its nearest centroid in the same scaled space.
  let assignments: number[] | undefined
  if (opts.assign === true) {
    if (subsample === undefined) assignments = clustering.labels
    else {
      const scaleRow = (r: readonly number[]) => {
        const w = wholeDays(r)
        return distanceCols.map((j, c) => (transform(w, j, rows) - (scaling.mean[c] as number)) / (scaling.sd[c] as number))
      }
      assignments = nearestCentroid(sample.rows.map(scaleRow), clustering.centroids, work)
    }
  }
  return {
    k: clustering.k,
    silhouette: round(sil),
    rows: n,
    ...(subsample === undefined ? {} : { sampledFrom: all }),
    work,
    clusters,
    ...(tried === undefined ? {} : { tried: tried.map((t) => ({ k: t.k, silhouette: round(t.silhouette) })) }),
    undescribed: features.filter((f) => f.spec.kind === 'opaque').map((f) => f.name),
    asOf: new Date(asOf).toISOString().slice(0, 10),
    ...(assignments === undefined ? {} : { assignments }),
  }
}

/** `m` distinct indices of [0, n), seeded (a partial Fisher–Yates shuffle), in increasing order. */
function pick(n: number, m: number, seed: number): number[] {
  const rand = seededRng(seed)
  const idx = Array.from({ length: n }, (_, i) => i)
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rand() * (n - i))
    const t = idx[i] as number
    idx[i] = idx[j] as number
    idx[j] = t
  }
  return idx.slice(0, m).sort((a, b) => a - b)
}
