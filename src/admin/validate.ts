import { compileRuleset, htmlRewriterSelectorCheck, type CompiledRuleset } from '../rules/compile'
import { joinPath, type RulesetIssue } from '../rules/errors'
import { depthMessage, tooDeepAt } from '../rules/depth'
import { compileGlobs } from '../rules/glob'
import type { ConditionDoc, RulesetDoc } from '../rules/schema'

/** What validating a document yields: every error with its path, and warnings that do not block a publish. */
export type Validation =
  | { ok: true; ruleset: CompiledRuleset; doc: Record<string, unknown>; warnings: RulesetIssue[] }
  | { ok: false; kind: 'invalid_json' | 'invalid_ruleset' | 'too_deep'; issues: RulesetIssue[]; warnings: RulesetIssue[] }

/** Parses JSON text and validates it; see `validateDocument`. */
export function validateText(text: string): Validation {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return {
      ok: false,
      kind: 'invalid_json',
      issues: [{ path: '', message: `not valid JSON: ${err instanceof Error ? err.message : 'parse error'}` }],
      warnings: [],
    }
  }
  return validateDocument(value)
}

/**
 * Validates a parsed document the way the Worker compiles it (with workerd's own HTMLRewriter
 * asked about every selector when it is available), then looks for things that are legal but
 * almost certainly mistakes (see `rulesetWarnings`).
 */
export function validateDocument(value: unknown): Validation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, kind: 'invalid_ruleset', issues: [{ path: '', message: 'a ruleset is a JSON object' }], warnings: [] }
  }
  const deep = tooDeepAt(value)
  if (deep !== undefined) return { ok: false, kind: 'too_deep', issues: [{ path: deep, message: depthMessage() }], warnings: [] }
  const result = compileRuleset(value, { checkSelector: htmlRewriterSelectorCheck, fallbackVersion: 'draft' })
  if (!result.ok) return { ok: false, kind: 'invalid_ruleset', issues: result.issues, warnings: [] }
  return {
    ok: true,
    ruleset: result.ruleset,
    doc: value as Record<string, unknown>,
    warnings: rulesetWarnings(result.ruleset.doc),
  }
}

/** Segment ids a condition reads through `segments` (`$contains`, equality, `$in`), with their paths. */
function segmentRefs(cond: ConditionDoc, path: string, out: { id: string; path: string }[]): void {
  for (const [key, test] of Object.entries(cond)) {
    if (key === '$and' || key === '$or') {
      if (Array.isArray(test)) for (const [i, c] of test.entries()) segmentRefs(c as ConditionDoc, joinPath(path, key, i), out)
      continue
    }
    if (key === '$not') {
      if (typeof test === 'object' && test !== null) segmentRefs(test as ConditionDoc, joinPath(path, key), out)
      continue
    }
    if (key !== 'segments') continue
    const p = joinPath(path, key)
    if (typeof test === 'string') out.push({ id: test, path: p })
    else if (typeof test === 'object' && test !== null) {
      const t = test as Record<string, unknown>
      for (const op of ['$contains', '$eq', '$ne'])
        if (typeof t[op] === 'string') out.push({ id: t[op] as string, path: joinPath(p, op) })
      for (const op of ['$in', '$nin']) {
        const list = t[op]
        if (Array.isArray(list))
          list.forEach((v, i) => {
            if (typeof v === 'string') out.push({ id: v, path: joinPath(p, op, i) })
          })
      }
    }
  }
}

/** True when a condition has an `$in: []` test, which no value passes (in an all-of position). */
function hasEmptyIn(cond: ConditionDoc): boolean {
  for (const [key, test] of Object.entries(cond)) {
    if (key === '$and' && Array.isArray(test) && test.some((c) => hasEmptyIn(c as ConditionDoc))) return true
    if (key.startsWith('$')) continue
    if (
      typeof test === 'object' &&
      test !== null &&
      Array.isArray((test as { $in?: unknown }).$in) &&
      (test as { $in: unknown[] }).$in.length === 0
    )
      return true
  }
  return false
}

/** Sample paths a glob matches, for the include/exclude check (`*` as empty and as a path). */
function samplePaths(glob: string): string[] {
  return [glob.replace(/\*/g, '').replace(/\?/g, 'a'), glob.replace(/\*/g, 'x/y.html').replace(/\?/g, 'a')]
}

/**
 * Warnings (SPEC 7 `validate`): rules that can never decide (after an unconditional rule, or on a
 * segment that can never match), unknown or forward segment references, placements whose paths
 * `settings.include` never lets through or `settings.exclude` removes, experiments already over.
 * The path check samples each glob (its `*` as nothing and as a sub-path): a heuristic, worded so.
 */
export function rulesetWarnings(doc: RulesetDoc, now: Date = new Date()): RulesetIssue[] {
  const warnings: RulesetIssue[] = []
  const order = new Map(doc.segments.map((s, i) => [s.id, i]))
  const never = new Set<string>()
  doc.segments.forEach((s, i) => {
    const base = joinPath('segments', i, 'when')
    const refs: { id: string; path: string }[] = []
    segmentRefs(s.when, base, refs)
    for (const r of refs) {
      const at = order.get(r.id)
      if (at === undefined)
        warnings.push({ path: r.path, message: `unknown segment "${r.id}": no segment has this id, so this test never matches` })
      else if (at >= i)
        warnings.push({
          path: r.path,
          message: `segment "${r.id}" is defined at or after "${s.id}": a segment only sees the segments before it, so this test never matches`,
        })
    }
    if (hasEmptyIn(s.when)) {
      never.add(s.id)
      warnings.push({ path: base, message: `segment "${s.id}" has an empty "$in" list and can never match` })
    }
  })
  const include = compileGlobs(doc.settings.include)
  const exclude = compileGlobs(doc.settings.exclude)
  doc.placements.forEach((pl, pi) => {
    const base = joinPath('placements', pi)
    let unconditional: number | undefined
    pl.rules.forEach((r, ri) => {
      const rp = joinPath(base, 'rules', ri)
      if (unconditional !== undefined) {
        warnings.push({
          path: rp,
          message: `unreachable: rule ${unconditional} of placement "${pl.id}" matches every visitor, so this rule is never reached`,
        })
        return
      }
      if (r.segment !== undefined && never.has(r.segment))
        warnings.push({ path: joinPath(rp, 'segment'), message: `unreachable: segment "${r.segment}" can never match` })
      const refs: { id: string; path: string }[] = []
      if (r.when !== undefined) segmentRefs(r.when, joinPath(rp, 'when'), refs)
      for (const ref of refs)
        if (!order.has(ref.id)) warnings.push({ path: ref.path, message: `unknown segment "${ref.id}": this test never matches` })
      const whenEmpty = r.when === undefined || Object.keys(r.when).length === 0
      if (r.segment === undefined && whenEmpty && (r.experiment === undefined || (r.experiment.traffic ?? 100) >= 100))
        unconditional = ri
      if (r.experiment?.end !== undefined && Date.parse(r.experiment.end) < now.getTime()) {
        warnings.push({
          path: joinPath(rp, 'experiment', 'end'),
          message: `experiment "${r.experiment.id}" ended on ${r.experiment.end}: its visitors see control`,
        })
      }
    })
    if (pl.rules.length === 0)
      warnings.push({ path: joinPath(base, 'rules'), message: `placement "${pl.id}" has no rules: every visitor gets control` })
    const samples = pl.paths.flatMap(samplePaths)
    if (!samples.some((p) => include(p))) {
      warnings.push({
        path: joinPath(base, 'paths'),
        message: `no path of placement "${pl.id}" is matched by settings.include, so it never applies`,
      })
    } else if (samples.filter((p) => include(p)).every((p) => exclude(p))) {
      warnings.push({
        path: joinPath(base, 'paths'),
        message: `every path of placement "${pl.id}" is in settings.exclude, so it never applies`,
      })
    }
  })
  return warnings
}

/** A short summary of a compiled ruleset for API answers. */
export function summarize(ruleset: CompiledRuleset): {
  segments: number
  placements: number
  goals: number
  experiments: string[]
} {
  const experiments = ruleset.placements.flatMap((p) =>
    p.rules.flatMap((r) => (r.experiment === undefined ? [] : [r.experiment.id])),
  )
  return {
    segments: ruleset.segments.length,
    placements: ruleset.placements.length,
    goals: ruleset.goals.length,
    experiments: [...new Set(experiments)],
  }
}
