import { joinPath, type RulesetIssue } from './errors'
import { compileLinearRegex, type LinearRegex } from './regex'
import { regexPortabilityProblem } from './regex-portable'
import type { ConditionDoc } from './schema'

/** A compiled condition: pure, synchronous, no allocation beyond the attribute walk. */
export type Predicate = (ctx: object) => boolean

/** Roots a condition may read (SPEC 4.2). */
export const ATTRIBUTE_ROOTS = new Set([
  'geo',
  'device',
  'time',
  'request',
  'consent',
  'visitor',
  'behavior',
  'profile',
  'segments',
])
const ATTRIBUTE_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/
export const MAX_REGEX_LENGTH = 256
/** Only this much of an attribute is matched against a `$regex`, to bound its cost. */
export const MAX_REGEX_INPUT = 1000

type Scalar = string | number | boolean | null

/** Splits and checks an attribute path once; undefined keys when it is not valid. */
export function attributeKeys(path: string): string[] | undefined {
  if (!ATTRIBUTE_PATH.test(path)) return undefined
  const keys = path.split('.')
  return ATTRIBUTE_ROOTS.has(keys[0] ?? '') ? keys : undefined
}

/** Walks `keys` into `obj`; `undefined` where anything along the way is missing. */
export function lookup(obj: unknown, keys: readonly string[]): unknown {
  let cur: unknown = obj
  for (const k of keys) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, k)) return undefined
    cur = (cur as Record<string, unknown>)[k]
  }
  return cur
}

/**
 * Why a `$regex` cannot be used, or undefined: syntax engines disagree on (inline flags, a repeated
 * group name; src/rules/regex-portable.ts), too long, not valid JavaScript, or outside what the
 * linear-time engine matches (backreferences, lookaround; see src/rules/regex.ts). Patterns that
 * would backtrack catastrophically in `RegExp` (`(a+)+$`, `^(aa?)+$`) are fine: they never run there.
 */
export function regexProblem(pattern: string): string | undefined {
  return compileRegex(pattern).problem
}

/** The one `$regex` verdict, for publish and for the compiled condition alike. */
function compileRegex(pattern: string, ignoreCase = false): { regex?: LinearRegex; problem?: string } {
  const portability = regexPortabilityProblem(pattern)
  if (portability !== undefined) return { problem: portability }
  if (pattern.length > MAX_REGEX_LENGTH) return { problem: `$regex is longer than ${MAX_REGEX_LENGTH} characters` }
  try {
    new RegExp(pattern, ignoreCase ? 'i' : '')
  } catch {
    return { problem: '$regex does not compile' }
  }
  const c = compileLinearRegex(pattern, { ignoreCase })
  return c.ok ? { regex: c.regex } : { problem: c.problem }
}

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
}

/** A decimal number written as a string (`"10"`, `"-2.5"`), as query parameters and headers are. */
const NUMERIC_STRING = /^-?\d{1,20}(?:\.\d{1,20})?$/

/**
 * `$gt`/`$gte`/`$lt`/`$lte`. Numbers compare as numbers, strings (ISO dates, versions)
 * lexicographically. A number operand also compares numerically with an attribute that is a
 * decimal number in a string (`request.query.page: { "$gt": 2 }` matches `?page=10`); any other
 * mix never matches.
 */
export function compare(attr: unknown, operand: unknown, op: '$gt' | '$gte' | '$lt' | '$lte'): boolean {
  const a = typeof operand === 'number' && typeof attr === 'string' && NUMERIC_STRING.test(attr) ? Number(attr) : attr
  const b = operand
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) return false
  switch (op) {
    case '$gt':
      return a > b
    case '$gte':
      return a >= b
    case '$lt':
      return a < b
    case '$lte':
      return a <= b
  }
}

function eq(value: unknown, expected: Scalar): boolean {
  // An array attribute (profile.interests, segments) equals a scalar when it contains it.
  return Array.isArray(value) ? value.includes(expected) : value === expected
}

/** Case-insensitive comparison key: Unicode lower case, no locale (`"UTM"` and `"utm"` agree). */
const fold = (s: string): string => s.toLowerCase()

/** Saved id lists by name, loaded with the ruleset (`$inList`). */
export type SavedLists = ReadonlyMap<string, ReadonlySet<string>>

export interface ConditionOptions {
  /** The saved lists `$inList` reads, looked up when a condition is evaluated; a list not in it matches nothing. */
  lists?: SavedLists
  /** Collects the names of the lists `$inList` tests refer to. */
  listNames?: Set<string>
}

function inSet(set: ReadonlySet<unknown>, v: unknown): boolean {
  return Array.isArray(v) ? v.some((x) => set.has(x)) : set.has(v)
}

function compileTest(
  test: unknown,
  path: string,
  issues: RulesetIssue[],
  options: ConditionOptions = {},
): ((v: unknown) => boolean) | undefined {
  if (isScalar(test)) return (v) => v !== undefined && eq(v, test)
  if (typeof test !== 'object' || test === null || Array.isArray(test)) {
    issues.push({ path, message: 'a test is a scalar or an operator object' })
    return undefined
  }
  const checks: ((v: unknown) => boolean)[] = []
  // `$exists: false` and `$ne` are the only tests a missing attribute can pass (SPEC 4.1).
  let missingPasses = true
  for (const [op, arg] of Object.entries(test)) {
    const p = joinPath(path, op)
    switch (op) {
      case '$eq':
        checks.push((v) => eq(v, arg as Scalar))
        missingPasses = false
        break
      case '$ne':
        checks.push((v) => !eq(v, arg as Scalar))
        break
      case '$in': {
        const set = new Set(arg as Scalar[])
        checks.push((v) => (Array.isArray(v) ? v.some((x) => set.has(x)) : set.has(v as Scalar)))
        missingPasses = false
        break
      }
      case '$nin': {
        const set = new Set(arg as Scalar[])
        checks.push((v) => (Array.isArray(v) ? !v.some((x) => set.has(x)) : !set.has(v as Scalar)))
        missingPasses = false
        break
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        checks.push((v) => compare(v, arg, op))
        missingPasses = false
        break
      case '$exists':
        checks.push((v) => (v !== undefined) === arg)
        if (arg === true) missingPasses = false
        break
      case '$contains':
        checks.push((v) =>
          Array.isArray(v) ? v.includes(arg) : typeof v === 'string' && typeof arg === 'string' && v.includes(arg),
        )
        missingPasses = false
        break
      case '$startsWith':
        checks.push((v) => typeof v === 'string' && v.startsWith(arg as string))
        missingPasses = false
        break
      case '$regex': {
        const ignoreCase = (test as { $options?: unknown }).$options === 'i'
        const { regex, problem } = compileRegex(arg as string, ignoreCase)
        if (regex === undefined) {
          issues.push({ path: p, message: problem ?? '$regex is not usable' })
          return undefined
        }
        checks.push((v) => typeof v === 'string' && regex.test(v.slice(0, MAX_REGEX_INPUT)))
        missingPasses = false
        break
      }
      case '$options':
        if (!('$regex' in test)) {
          issues.push({ path: p, message: '$options applies to $regex, which is missing here' })
          return undefined
        }
        break
      case '$ieq': {
        const want = fold(String(arg))
        checks.push((v) =>
          Array.isArray(v) ? v.some((x) => typeof x === 'string' && fold(x) === want) : typeof v === 'string' && fold(v) === want,
        )
        missingPasses = false
        break
      }
      case '$iin': {
        const set = new Set((arg as string[]).map(fold))
        const has = (x: unknown) => typeof x === 'string' && set.has(fold(x))
        checks.push((v) => (Array.isArray(v) ? v.some(has) : has(v)))
        missingPasses = false
        break
      }
      case '$inList': {
        const name = String(arg)
        const lists = options.lists
        options.listNames?.add(name)
        // Read at evaluation time: the store fills the lists after compiling and on each refresh.
        // A list that is not published (yet) matches nothing, like an attribute that is missing.
        checks.push((v) => {
          const list = lists?.get(name)
          return list !== undefined && inSet(list, typeof v === 'number' ? String(v) : v)
        })
        missingPasses = false
        break
      }
      default:
        issues.push({ path: p, message: `unknown operator "${op}"` })
        return undefined
    }
  }
  if (checks.length === 0) {
    issues.push({ path, message: 'an operator object needs at least one operator' })
    return undefined
  }
  return (v) => {
    if (v === undefined && !missingPasses) return false
    for (const c of checks) if (!c(v)) return false
    return true
  }
}

/**
 * Compiles a condition into a predicate over the context. Problems are pushed to `issues`
 * with their path; the returned predicate is then `() => false` and must not be used live.
 */
export function compileCondition(
  cond: ConditionDoc,
  path: string,
  issues: RulesetIssue[],
  options: ConditionOptions = {},
): Predicate {
  const before = issues.length
  const parts: Predicate[] = []
  for (const [key, test] of Object.entries(cond)) {
    const p = joinPath(path, key)
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(test) || test.length === 0) {
        issues.push({ path: p, message: `${key} takes a non-empty array of conditions` })
        continue
      }
      const subs = test.map((c, i) => compileCondition(c as ConditionDoc, joinPath(p, i), issues, options))
      parts.push(key === '$and' ? (ctx) => subs.every((s) => s(ctx)) : (ctx) => subs.some((s) => s(ctx)))
    } else if (key === '$not') {
      const sub = compileCondition(test as ConditionDoc, p, issues, options)
      parts.push((ctx) => !sub(ctx))
    } else if (key.startsWith('$')) {
      issues.push({ path: p, message: `unknown logical operator "${key}" (use $and, $or, $not)` })
    } else {
      const keys = attributeKeys(key)
      if (keys === undefined) {
        issues.push({ path: p, message: `unknown attribute "${key}": it starts with one of ${[...ATTRIBUTE_ROOTS].join(', ')}` })
        continue
      }
      const t = compileTest(test, p, issues, options)
      if (t !== undefined) parts.push((ctx) => t(lookup(ctx, keys)))
    }
  }
  if (issues.length > before) return () => false
  if (parts.length === 1) return parts[0] as Predicate
  return (ctx) => {
    for (const part of parts) if (!part(ctx)) return false
    return true
  }
}
