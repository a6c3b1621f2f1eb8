/**
 * A shallow CART classifier (Gini impurity, binary splits `x < t` / `x ≥ t`) for one target: "is
 * this row in cluster c". Written here rather than taken from ml-cart: that package's split search
 * re-partitions every row for every candidate threshold (O(n²) per feature and node, too slow for
 * a few thousand rows inside a request) and its last release is from 2022. This one sorts each
 * feature once per node and sweeps the class counts (O(n log n)).
 *
 * Thresholds are "round" numbers between the two training values a split separates (3 rather
 * than 2.5, 0.5 rather than 0.4731), so the condition a person reads is short and still sends
 * every training row the same way.
 */

export type TreeNode =
  | { leaf: true; n: number; positive: number }
  | { leaf: false; feature: number; threshold: number; n: number; positive: number; left: TreeNode; right: TreeNode }

export interface TreeOptions {
  maxDepth?: number
  /** Fewest rows in a leaf. */
  minLeaf?: number
}

const gini = (pos: number, n: number): number => {
  if (n === 0) return 0
  const p = pos / n
  return 2 * p * (1 - p)
}

/** The roundest number in (a, b]: fewest significant digits, then closest to the midpoint. */
export function roundBetween(a: number, b: number): number {
  const mid = (a + b) / 2
  for (let e = 9; e >= -9; e--) {
    for (const m of [5, 1]) {
      const step = m * 10 ** e
      const lo = Math.floor(a / step) + 1
      const hi = Math.floor(b / step)
      if (hi < lo) continue
      let k = Math.round(mid / step)
      if (k < lo) k = lo
      if (k > hi) k = hi
      const t = Number((k * step).toPrecision(12))
      if (t > a && t <= b) return t
    }
  }
  return b
}

/** Fits the tree on columns `usable` of `rows` (raw values) against 0/1 `target`. */
export function fitTree(
  rows: readonly (readonly number[])[],
  target: readonly number[],
  usable: readonly number[],
  opts: TreeOptions = {},
): TreeNode {
  const maxDepth = opts.maxDepth ?? 3
  const minLeaf = Math.max(1, opts.minLeaf ?? 1)
  const grow = (idx: number[], depth: number): TreeNode => {
    const n = idx.length
    let positive = 0
    for (const i of idx) positive += target[i] as number
    if (depth >= maxDepth || positive === 0 || positive === n || n < 2 * minLeaf) return { leaf: true, n, positive }
    const parent = gini(positive, n)
    let best: { gain: number; feature: number; threshold: number } | undefined
    for (const f of usable) {
      const sorted = [...idx].sort((x, y) => (rows[x]?.[f] as number) - (rows[y]?.[f] as number))
      let leftPos = 0
      for (let s = 0; s < n - 1; s++) {
        const i = sorted[s] as number
        leftPos += target[i] as number
        const a = rows[i]?.[f] as number
        const b = rows[sorted[s + 1] as number]?.[f] as number
        if (a === b) continue
        const nl = s + 1
        const nr = n - nl
        if (nl < minLeaf || nr < minLeaf) continue
        const gain = parent - (nl / n) * gini(leftPos, nl) - (nr / n) * gini(positive - leftPos, nr)
        if (best === undefined || gain > best.gain + 1e-12) best = { gain, feature: f, threshold: roundBetween(a, b) }
      }
    }
    if (best === undefined || best.gain <= 1e-12) return { leaf: true, n, positive }
    const { feature, threshold } = best
    const left = idx.filter((i) => (rows[i]?.[feature] as number) < threshold)
    const right = idx.filter((i) => (rows[i]?.[feature] as number) >= threshold)
    return {
      leaf: false,
      feature,
      threshold,
      n,
      positive,
      left: grow(left, depth + 1),
      right: grow(right, depth + 1),
    }
  }
  return prune(
    grow(
      rows.map((_, i) => i),
      0,
    ),
  )
}

const predicts = (node: TreeNode): boolean => node.positive * 2 > node.n

/** Merges a split whose two sides are leaves with the same prediction: it says nothing. */
function prune(node: TreeNode): TreeNode {
  if (node.leaf) return node
  const left = prune(node.left)
  const right = prune(node.right)
  if (left.leaf && right.leaf && predicts(left) === predicts(right)) return { leaf: true, n: node.n, positive: node.positive }
  return { ...node, left, right }
}

/** One test on a path from the root: column `feature` `<` or `>=` `threshold`. */
export interface PathTest {
  feature: number
  op: '<' | '>='
  threshold: number
}

/**
 * The root-to-leaf paths of the leaves that predict the target. When no leaf has a majority of
 * the target, the one leaf with the highest share of it (a best effort, reported with its accuracy).
 */
export function positivePaths(root: TreeNode): PathTest[][] {
  const out: PathTest[][] = []
  let fallback: { path: PathTest[]; share: number } | undefined
  const walk = (node: TreeNode, path: PathTest[]): void => {
    if (node.leaf) {
      if (predicts(node)) out.push(path)
      const share = node.n === 0 ? 0 : node.positive / node.n
      if (node.positive > 0 && (fallback === undefined || share > fallback.share)) fallback = { path, share }
      return
    }
    walk(node.left, [...path, { feature: node.feature, op: '<', threshold: node.threshold }])
    walk(node.right, [...path, { feature: node.feature, op: '>=', threshold: node.threshold }])
  }
  walk(root, [])
  if (out.length === 0 && fallback !== undefined) out.push(fallback.path)
  return out
}
