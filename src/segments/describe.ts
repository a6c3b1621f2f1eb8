import { compileCondition } from '../rules/conditions'
import type { RulesetIssue } from '../rules/errors'
import type { ConditionDoc } from '../rules/schema'
import { dayBefore, type Feature, rowContext } from './features'
import type { PathTest } from './tree'

/**
 * Turns decision-tree paths into a Veneer condition (SPEC 4.1): each path an `$and` of tests on
 * real attributes, several paths an `$or`. Tests on one attribute merge into one operator object.
 */

interface Bounds {
  lo?: number
  hi?: number
}

/** One path as a condition; `asOf` is the sample's day, for `visitor.firstSeen`. */
export function pathCondition(path: readonly PathTest[], features: readonly Feature[], asOf: number): ConditionDoc {
  const numeric = new Map<string, Bounds>()
  const dates = new Map<string, Bounds>()
  const equal = new Map<string, string>()
  const notEqual = new Map<string, Set<string>>()
  const order: string[] = []
  const touch = (attr: string) => {
    if (!order.includes(attr)) order.push(attr)
  }
  for (const t of path) {
    const f = features[t.feature]
    if (f === undefined) continue
    const spec = f.spec
    if (spec.kind === 'number' || spec.kind === 'daysSince') {
      const map = spec.kind === 'number' ? numeric : dates
      // Whole days: `days < 2.5` is `days < 3`.
      const thr = spec.kind === 'daysSince' ? Math.ceil(t.threshold) : t.threshold
      const b = map.get(spec.attribute) ?? {}
      if (t.op === '>=') b.lo = b.lo === undefined ? thr : Math.max(b.lo, thr)
      else b.hi = b.hi === undefined ? thr : Math.min(b.hi, thr)
      map.set(spec.attribute, b)
      touch(spec.attribute)
    } else if (spec.kind === 'oneHot') {
      // The column is 0/1: `≥ t` (t in (0, 1]) means the attribute has this value.
      if (t.op === '>=') equal.set(spec.attribute, spec.value)
      else {
        const s = notEqual.get(spec.attribute) ?? new Set<string>()
        s.add(spec.value)
        notEqual.set(spec.attribute, s)
      }
      touch(spec.attribute)
    }
  }
  const parts: ConditionDoc[] = []
  for (const attr of order) {
    const nb = numeric.get(attr)
    if (nb !== undefined) {
      const test: Record<string, number> = {}
      if (nb.lo !== undefined) test.$gte = nb.lo
      if (nb.hi !== undefined) test.$lt = nb.hi
      parts.push({ [attr]: test })
      continue
    }
    const db = dates.get(attr)
    if (db !== undefined) {
      // days ≥ lo ⇔ first seen before the day lo − 1 days back; days < hi ⇔ on or after the day hi − 1 back.
      // ISO strings compare as dates, and a date-time sorts after its own date.
      const test: Record<string, string> = {}
      if (db.hi !== undefined) test.$gte = dayBefore(asOf, db.hi - 1)
      if (db.lo !== undefined) test.$lt = dayBefore(asOf, db.lo - 1)
      parts.push({ [attr]: test })
      continue
    }
    const eq = equal.get(attr)
    if (eq !== undefined) {
      // One-hot columns are exclusive: equality implies every "not that other value".
      parts.push({ [attr]: eq })
      continue
    }
    const ne = [...(notEqual.get(attr) ?? [])]
    // `$ne` and `$not $in` pass when the attribute is missing, as a 0 in every one-hot column does.
    if (ne.length === 1) parts.push({ [attr]: { $ne: ne[0] } })
    else if (ne.length > 1) parts.push({ $not: { [attr]: { $in: ne } } })
  }
  return mergeAnd(parts)
}

/** `{a}, {b}` → `{a, b}` when no key repeats (an object's pairs all hold); else `$and`. */
function mergeAnd(parts: ConditionDoc[]): ConditionDoc {
  const merged: ConditionDoc = {}
  for (const p of parts) {
    for (const key of Object.keys(p)) if (Object.hasOwn(merged, key)) return { $and: parts }
    Object.assign(merged, p)
  }
  return merged
}

/** Several paths: an `$or`; one path: that path's condition. */
export function pathsCondition(paths: readonly PathTest[][], features: readonly Feature[], asOf: number): ConditionDoc {
  const conds = paths.map((p) => pathCondition(p, features, asOf))
  if (conds.length === 1) return conds[0] as ConditionDoc
  return { $or: conds }
}

export interface Agreement {
  /** Rows where the condition and cluster membership agree, over all rows. */
  accuracy: number
  /** Of the rows the condition matches, the share in the cluster. */
  precision: number
  /** Of the cluster's rows, the share the condition matches. */
  recall: number
  /** Rows the condition matches. */
  matched: number
}

/**
 * Checks a condition with Veneer's own compiler and evaluator against cluster membership, on the
 * context each row stands for. Throws when the condition does not compile (a bug here, not input).
 */
export function agreement(
  when: ConditionDoc,
  features: readonly Feature[],
  rows: readonly (readonly number[])[],
  inCluster: readonly boolean[],
  asOf: number,
  /** The rows' contexts (rowContext), when the caller built them once for several conditions. */
  contexts?: readonly Record<string, unknown>[],
): Agreement {
  const issues: RulesetIssue[] = []
  const pred = compileCondition(when, 'when', issues)
  if (issues.length > 0) throw new Error(`generated condition does not compile: ${issues.map((i) => i.message).join('; ')}`)
  let tp = 0
  let fp = 0
  let fn = 0
  let agree = 0
  rows.forEach((row, i) => {
    const m = pred(contexts?.[i] ?? rowContext(features, row, asOf))
    const c = inCluster[i] === true
    if (m && c) tp++
    else if (m) fp++
    else if (c) fn++
    if (m === c) agree++
  })
  const n = rows.length
  return {
    accuracy: n === 0 ? 0 : agree / n,
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tp + fn === 0 ? 0 : tp / (tp + fn),
    matched: tp + fp,
  }
}
