import { hasSegment } from '../decide/segment-set'
import type { RecommendSpec } from '../recs/recommend'
import { compileItemTemplate, type ItemTemplateParts } from '../recs/template'
import { compileTemplate, type Template } from '../rewrite/template'
import { compileCondition, type ConditionOptions, type Predicate } from './conditions'
import { depthMessage, tooDeepAt } from './depth'
import { joinPath, type RulesetIssue } from './errors'
import { compileGlobs, type PathMatcher } from './glob'
import { RulesetDocument, type ExperimentDoc, type GoalDoc, type OperationDoc, type RulesetDoc, type SettingsDoc } from './schema'

export const CONTROL = 'control'

export type CompiledOp =
  | { op: 'setText' | 'setHtml' | 'replace' | 'before' | 'after' | 'prepend' | 'append'; selector: string; template: Template }
  | { op: 'remove'; selector: string }
  | { op: 'setAttr'; selector: string; name: string; template: Template }
  | { op: 'removeAttr'; selector: string; name: string }
  | { op: 'addClass' | 'removeClass'; selector: string; className: string }
  | { op: 'recommend'; selector: string; spec: RecommendSpec; template: ItemTemplateParts }

export interface CompiledVariant {
  id: string
  ops: readonly CompiledOp[]
}

export interface CompiledRule {
  index: number
  matches: Predicate
  variant?: string
  experiment?: ExperimentDoc
}

export interface CompiledPlacement {
  id: string
  matchesPath: PathMatcher
  selector: string
  variants: ReadonlyMap<string, CompiledVariant>
  rules: readonly CompiledRule[]
}

export interface CompiledSegment {
  id: string
  matches: Predicate
}

/** A ruleset ready for the hot path: every condition, glob, template and selector compiled. */
export interface CompiledRuleset {
  version: string
  doc: RulesetDoc
  settings: SettingsDoc
  segments: readonly CompiledSegment[]
  placements: readonly CompiledPlacement[]
  goals: readonly GoalDoc[]
  included: PathMatcher
  excluded: PathMatcher
  categories: readonly { id: string; matches: PathMatcher }[]
  /** Names of the saved lists its `$inList` tests read. */
  listNames?: readonly string[]
  /** Their contents, filled by the store (`loadLists`) and read at evaluation time. */
  lists?: Map<string, ReadonlySet<string>>
}

export type CompileResult = { ok: true; ruleset: CompiledRuleset } | { ok: false; issues: RulesetIssue[] }

export interface CompileOptions {
  /** Used when the document has no `version` (e.g. a hash of the stored text). */
  fallbackVersion?: string
  /** Saved lists known up front (`$inList`), e.g. read by the CLI; the store fills them otherwise. */
  lists?: ReadonlyMap<string, ReadonlySet<string>>
  /** Extra selector check, e.g. the real HTMLRewriter parser inside workerd. */
  checkSelector?: (selector: string) => string | undefined
}

/** FNV-1a, 32-bit, as hex: a short stable id for a document without a version. */
export function textHash(text: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0).toString(16).padStart(8, '0')
}

/** Asks workerd's own HTMLRewriter whether it accepts a selector (undefined in Node). */
export function htmlRewriterSelectorCheck(selector: string): string | undefined {
  if (typeof HTMLRewriter === 'undefined') return undefined
  try {
    new HTMLRewriter().on(selector, {})
    return undefined
  } catch (err) {
    return `HTMLRewriter rejects this selector: ${err instanceof Error ? err.message : String(err)}`
  }
}

function compileOp(op: OperationDoc, selector: string, path: string, issues: RulesetIssue[]): CompiledOp {
  switch (op.op) {
    case 'remove':
      return { op: op.op, selector }
    case 'removeAttr':
      return { op: op.op, selector, name: op.name }
    case 'addClass':
    case 'removeClass':
      return { op: op.op, selector, className: op.value }
    case 'setAttr':
      return {
        op: op.op,
        selector,
        name: op.name,
        template: compileTemplate(op.value, path, issues, { kind: 'attr', name: op.name }),
      }
    case 'setText':
      return { op: op.op, selector, template: compileTemplate(op.value, path, issues, { kind: 'text' }) }
    case 'recommend': {
      const { parts, problems } = compileItemTemplate(op.template)
      for (const message of problems) issues.push({ path: joinPath(path, 'template'), message })
      const { op: _op, selector: _sel, template: _t, ...spec } = op
      return { op: op.op, selector, spec, template: parts }
    }
    default:
      return { op: op.op, selector, template: compileTemplate(op.value, path, issues, { kind: 'html' }) }
  }
}

function crossReferences(doc: RulesetDoc, issues: RulesetIssue[]): void {
  const unique = (ids: string[], path: string, what: string) => {
    const seen = new Set<string>()
    ids.forEach((id, i) => {
      if (seen.has(id)) issues.push({ path: joinPath(path, i, 'id'), message: `duplicate ${what} id "${id}"` })
      seen.add(id)
    })
  }
  unique(
    doc.segments.map((s) => s.id),
    'segments',
    'segment',
  )
  unique(
    doc.placements.map((p) => p.id),
    'placements',
    'placement',
  )
  unique(
    doc.goals.map((g) => g.id),
    'goals',
    'goal',
  )
  const segmentIds = new Set(doc.segments.map((s) => s.id))
  const experiments = new Map<string, string>()
  doc.placements.forEach((pl, pi) => {
    const base = joinPath('placements', pi)
    unique(
      pl.variants.map((v) => v.id),
      joinPath(base, 'variants'),
      'variant',
    )
    const variantIds = new Set(pl.variants.map((v) => v.id))
    pl.variants.forEach((v, vi) => {
      if (v.id === CONTROL)
        issues.push({ path: joinPath(base, 'variants', vi, 'id'), message: '"control" is reserved for the generic page' })
    })
    pl.rules.forEach((r, ri) => {
      const rp = joinPath(base, 'rules', ri)
      if (r.segment !== undefined && !segmentIds.has(r.segment))
        issues.push({ path: joinPath(rp, 'segment'), message: `unknown segment "${r.segment}"` })
      if (r.variant !== undefined && r.variant !== CONTROL && !variantIds.has(r.variant)) {
        issues.push({ path: joinPath(rp, 'variant'), message: `unknown variant "${r.variant}" in placement "${pl.id}"` })
      }
      if (r.experiment !== undefined) {
        const e = r.experiment
        const owner = experiments.get(e.id)
        if (owner !== undefined && owner !== pl.id) {
          issues.push({
            path: joinPath(rp, 'experiment', 'id'),
            message: `experiment "${e.id}" is already used by placement "${owner}"`,
          })
        }
        experiments.set(e.id, pl.id)
        for (const k of Object.keys(e.split)) {
          if (k !== CONTROL && !variantIds.has(k))
            issues.push({
              path: joinPath(rp, 'experiment', 'split', k),
              message: `unknown variant "${k}" in placement "${pl.id}"`,
            })
        }
        if (
          e.allocation === 'bandit' &&
          (e.goal !== undefined ? !doc.goals.some((g) => g.id === e.goal) : doc.goals.length === 0)
        ) {
          issues.push({
            path: joinPath(rp, 'experiment', 'goal'),
            message:
              e.goal === undefined ? 'a bandit needs a goal to optimise: the ruleset has none' : `unknown goal "${e.goal}"`,
          })
        }
        if (e.start !== undefined && e.end !== undefined && Date.parse(e.start) >= Date.parse(e.end)) {
          issues.push({ path: joinPath(rp, 'experiment', 'end'), message: 'end is not after start' })
        }
      }
    })
  })
}

/** Validates a parsed JSON value as a ruleset and compiles it; every problem with its path. */
export function compileRuleset(input: unknown, options: CompileOptions = {}): CompileResult {
  const deep = tooDeepAt(input)
  if (deep !== undefined) return { ok: false, issues: [{ path: deep, message: depthMessage() }] }
  const parsed = RulesetDocument.safeParse(input)
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    }
  }
  const doc = parsed.data
  const issues: RulesetIssue[] = []
  crossReferences(doc, issues)
  const checkSelector = (selector: string, path: string) => {
    const problem = options.checkSelector?.(selector)
    if (problem !== undefined) issues.push({ path, message: problem })
  }
  const lists = new Map<string, ReadonlySet<string>>(options.lists ?? [])
  const listNames = new Set<string>()
  const condOptions: ConditionOptions = { lists, listNames }
  const segments = doc.segments.map((s, i) => ({
    id: s.id,
    matches: compileCondition(s.when, joinPath('segments', i, 'when'), issues, condOptions),
  }))
  const placements = doc.placements.map((pl, pi): CompiledPlacement => {
    const base = joinPath('placements', pi)
    checkSelector(pl.selector, joinPath(base, 'selector'))
    const variants = new Map<string, CompiledVariant>()
    pl.variants.forEach((v, vi) => {
      const ops = v.ops.map((op, oi) => {
        const opPath = joinPath(base, 'variants', vi, 'ops', oi)
        if (op.selector !== undefined) checkSelector(op.selector, joinPath(opPath, 'selector'))
        return compileOp(op, op.selector ?? pl.selector, opPath, issues)
      })
      variants.set(v.id, { id: v.id, ops })
    })
    const rules = pl.rules.map((r, ri): CompiledRule => {
      const when =
        r.when === undefined ? undefined : compileCondition(r.when, joinPath(base, 'rules', ri, 'when'), issues, condOptions)
      const seg = r.segment
      const matches: Predicate =
        seg === undefined
          ? (when ?? (() => true))
          : when === undefined
            ? (ctx) => hasSegment((ctx as { segments: string[] }).segments, seg)
            : (ctx) => hasSegment((ctx as { segments: string[] }).segments, seg) && when(ctx)
      return { index: ri, matches, variant: r.variant, experiment: r.experiment }
    })
    return { id: pl.id, matchesPath: compileGlobs(pl.paths), selector: pl.selector, variants, rules }
  })
  if (issues.length > 0) return { ok: false, issues }
  const settings = doc.settings
  return {
    ok: true,
    ruleset: {
      version: String(doc.version ?? options.fallbackVersion ?? textHash(JSON.stringify(input))),
      doc,
      settings,
      segments,
      placements,
      goals: doc.goals,
      included: compileGlobs(settings.include),
      excluded: compileGlobs(settings.exclude),
      categories: Object.entries(settings.categories).map(([id, g]) => ({
        id,
        matches: compileGlobs(Array.isArray(g) ? g : [g]),
      })),
      listNames: [...listNames],
      lists,
    },
  }
}

/** Parses JSON text and compiles it; a syntax error is reported at the root. */
export function compileRulesetText(text: string, options: CompileOptions = {}): CompileResult {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return { ok: false, issues: [{ path: '', message: `not valid JSON: ${err instanceof Error ? err.message : 'parse error'}` }] }
  }
  return compileRuleset(value, { fallbackVersion: textHash(text), ...options })
}
