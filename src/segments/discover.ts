import type { ConditionDoc } from '../rules/schema'
import { chooseK, clusterKmeans, distinctRows, silhouette as silhouetteOf, standardise } from './cluster'
import { agreement, pathsCondition } from './describe'
import { type Sample, SampleError } from './features'
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
  rows: number
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
  const n = sample.rows.length
  if (n < MIN_ROWS) throw new SampleError(`${n} rows: at least ${MIN_ROWS} are needed to find clusters`)
  // Days since first seen are whole days (conditions compare dates).
  const rows = sample.rows.map((r) => r.map((v, j) => (features[j]?.spec.kind === 'daysSince' ? Math.floor(v) : v)))
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
  const { scaled } = standardise(space)

  let clustering: ReturnType<typeof clusterKmeans>
  let sil: number
  let tried: { k: number; silhouette: number }[] | undefined
  const requested = opts.k ?? 'auto'
  if (requested === 'auto') {
    const kMax = Math.min(K_MAX, distinct)
    if (kMax < K_MIN) throw new SampleError('every row is the same: there is nothing to cluster')
    const chosen = chooseK(scaled, K_MIN, kMax, { seed, restarts })
    clustering = chosen.best
    sil = chosen.silhouette
    tried = chosen.tried
  } else {
    if (!Number.isInteger(requested) || requested < 1 || requested > 50)
      throw new SampleError('k is a whole number from 1 to 50, or "auto"')
    if (requested > distinct) throw new SampleError(`k = ${requested} but the sample has only ${distinct} distinct rows`)
    clustering = clusterKmeans(scaled, requested, { seed, restarts })
    sil = requested === 1 ? 0 : silhouetteOf(scaled, clustering.labels, requested, seed)
  }

  const usable = features.flatMap((f, j) => (f.spec.kind === 'opaque' ? [] : [j]))
  const minLeaf = Math.max(5, Math.floor(n * 0.005))
  const clusters: DiscoveredCluster[] = []
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
      fit = agreement(when, features, rows, members, asOf)
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
  return {
    k: clustering.k,
    silhouette: round(sil),
    rows: n,
    clusters,
    ...(tried === undefined ? {} : { tried: tried.map((t) => ({ k: t.k, silhouette: round(t.silhouette) })) }),
    undescribed: features.filter((f) => f.spec.kind === 'opaque').map((f) => f.name),
    asOf: new Date(asOf).toISOString().slice(0, 10),
    ...(opts.assign === true ? { assignments: clustering.labels } : {}),
  }
}
