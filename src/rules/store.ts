import { logError, logWarn } from '../util/log'
import { timeout } from '../util/timing'
import { compileRulesetText, htmlRewriterSelectorCheck, type CompiledRuleset } from './compile'
import { type ListCache, loadLists } from './lists'

/** KV key of the active ruleset (SPEC 3). */
export const RULESET_KEY = 'ruleset'
/** A background refresh that hangs longer than this is abandoned and retried later. */
const REFRESH_TIMEOUT_MS = 5000
const DEFAULT_REFRESH_SECONDS = 10
/**
 * Stored documents longer than this (UTF-16 units ≈ bytes of JSON) are refused unparsed:
 * parsing and validating 20 MB takes ~70 ms of CPU in workerd, past the budget and the 10 ms
 * CPU limit of Workers Free. A ruleset of 1,000 segments and 200 placements is ~0.3 MB.
 */
export const MAX_RULESET_CHARS = 2 * 1024 * 1024

/** Where this request's ruleset came from, for `Server-Timing` and `x-veneer`. */
export type RulesetSource =
  | 'memory' // warm isolate, possibly refreshing in the background
  | 'kv' // cold lookup that finished inside the budget
  | 'timeout' // cold lookup past the budget
  | 'error' // KV threw
  | 'invalid' // stored document failed validation
  | 'empty' // no ruleset stored
  | 'unbound' // no RULES binding

export interface RulesetLookup {
  ruleset?: CompiledRuleset
  source: RulesetSource
  /** Time spent waiting on KV for this request, in ms (0 when served from memory). */
  waitedMs: number
}

interface IsolateState {
  text?: string
  /** The last stored text that failed validation, so it is not compiled again and again. */
  badText?: string
  ruleset?: CompiledRuleset
  fetchedAt: number
  lastOutcome: RulesetSource
  inflight?: Promise<void>
  /** Saved lists (`$inList`) as last read, by name. */
  lists?: ListCache
}

// One state per KV binding object, per isolate: workerd hands every request the same `env`.
const states = new WeakMap<KVNamespace, IsolateState>()

async function refresh(kv: KVNamespace, state: IsolateState): Promise<void> {
  const t = timeout(REFRESH_TIMEOUT_MS)
  try {
    const text = await Promise.race([
      kv.get(RULESET_KEY, 'text'),
      t.promise.then(() => Promise.reject(new Error('KV read timed out'))),
    ])
    state.fetchedAt = Date.now()
    if (text === null) {
      // The key was deleted: personalization is switched off, not a fault.
      state.text = undefined
      state.ruleset = undefined
      state.lastOutcome = 'empty'
      return
    }
    if (text === state.text) {
      // Unchanged: compile nothing; saved lists may have changed, so they are read again.
      if (state.ruleset !== undefined) await Promise.race([loadLists(kv, state.ruleset, (state.lists ??= new Map())), t.promise])
      state.lastOutcome = 'kv'
      return
    }
    if (text.length > MAX_RULESET_CHARS) {
      state.lastOutcome = 'invalid'
      logWarn('ruleset_too_large', { bytes: text.length, max: MAX_RULESET_CHARS, keptVersion: state.ruleset?.version })
      return // keep the last good ruleset; the text is not kept, nor parsed
    }
    if (text === state.badText) {
      state.lastOutcome = 'invalid'
      return
    }
    const result = compileRulesetText(text, { checkSelector: htmlRewriterSelectorCheck })
    if (!result.ok) {
      state.badText = text
      state.lastOutcome = 'invalid'
      logWarn('ruleset_invalid', {
        issues: result.issues.length,
        first: result.issues[0]?.path,
        bytes: text.length,
        keptVersion: state.ruleset?.version,
      })
      return // keep the last good ruleset
    }
    // Its lists first, so that a new ruleset never goes live without them.
    // A hung list read is bounded by the refresh timeout like the ruleset read.
    await Promise.race([loadLists(kv, result.ruleset, (state.lists ??= new Map())), t.promise])
    state.text = text
    state.ruleset = result.ruleset
    state.lastOutcome = 'kv'
  } catch (err) {
    // Wait a refresh interval before asking KV again rather than hammering a failing store.
    state.fetchedAt = Date.now()
    state.lastOutcome = 'error'
    logError('ruleset_read_failed', err, { keptVersion: state.ruleset?.version })
  } finally {
    t.cancel()
    state.inflight = undefined
  }
}

export interface GetRulesetOptions {
  /** Bound on a cold lookup, in ms. */
  budgetMs: number
  /** Keeps the background refresh alive after the response (`ctx.waitUntil`). */
  waitUntil: (p: Promise<unknown>) => void
  /** Clock for staleness, injectable in tests. */
  now?: number
}

/**
 * The active compiled ruleset for this isolate. Warm: answered from memory at once, with a
 * background refresh when older than `settings.refreshSeconds` (stale-while-revalidate).
 * Cold: waits for KV at most `budgetMs`; past it, the lookup goes on in the background for the
 * next request and this one gets no ruleset (the generic page).
 */
export async function getRuleset(kv: KVNamespace | undefined, options: GetRulesetOptions): Promise<RulesetLookup> {
  if (kv === undefined) return { source: 'unbound', waitedMs: 0 }
  let state = states.get(kv)
  if (state === undefined) {
    state = { fetchedAt: 0, lastOutcome: 'empty' }
    states.set(kv, state)
  }
  const at = options.now ?? Date.now()
  if (state.fetchedAt > 0) {
    // Warm: a lookup has completed in this isolate. Never wait on KV again.
    const maxAge = (state.ruleset?.settings.refreshSeconds ?? DEFAULT_REFRESH_SECONDS) * 1000
    if (at - state.fetchedAt >= maxAge && state.inflight === undefined) {
      state.inflight = refresh(kv, state)
      options.waitUntil(state.inflight)
    }
    return { ruleset: state.ruleset, source: state.ruleset ? 'memory' : state.lastOutcome, waitedMs: 0 }
  }
  const started = performance.now()
  const inflight = (state.inflight ??= refresh(kv, state))
  const t = timeout(options.budgetMs)
  const finished = await Promise.race([inflight.then(() => true), t.promise])
  t.cancel()
  const waitedMs = performance.now() - started
  if (finished === undefined) {
    options.waitUntil(inflight) // let it land for the next request
    return { source: 'timeout', waitedMs }
  }
  return { ruleset: state.ruleset, source: state.ruleset ? 'kv' : state.lastOutcome, waitedMs }
}

/** The ruleset held in memory for this binding, if any, without touching KV or waiting. */
export function peekRuleset(kv: KVNamespace | undefined): CompiledRuleset | undefined {
  return kv === undefined ? undefined : states.get(kv)?.ruleset
}

/** Forgets the in-memory ruleset, so the next lookup is cold (admin publish, tests). */
export function forgetRuleset(kv: KVNamespace): void {
  states.delete(kv)
}
