import { logError, logWarn } from '../util/log'
import { timeout } from '../util/timing'
import { MODEL_KEY, compileModel, type RecsIndex } from './model'

/**
 * The recommendations model in memory, per isolate, like the ruleset (src/rules/store.ts): read
 * once, compiled once per stored text, refreshed in the background when older than
 * {@link MODEL_REFRESH_SECONDS}; a cold lookup waits at most the request's budget. A read error
 * or an invalid stored value keeps the last good model.
 */
export const MODEL_REFRESH_SECONDS = 60
const REFRESH_TIMEOUT_MS = 5000
/** Larger stored values are refused unparsed (parse time would pass the CPU budget). */
export const MAX_MODEL_CHARS = 16 * 1024 * 1024

interface ModelState {
  text?: string
  index?: RecsIndex
  fetchedAt: number
  inflight?: Promise<void>
}

const states = new WeakMap<KVNamespace, ModelState>()

async function refresh(kv: KVNamespace, state: ModelState): Promise<void> {
  const t = timeout(REFRESH_TIMEOUT_MS)
  try {
    const text = await Promise.race([
      kv.get(MODEL_KEY, 'text'),
      t.promise.then(() => Promise.reject(new Error('KV read timed out'))),
    ])
    state.fetchedAt = Date.now()
    if (text === null) {
      state.text = undefined
      state.index = undefined
      return
    }
    if (text === state.text) return
    if (text.length > MAX_MODEL_CHARS) {
      logWarn('recs_model_too_large', { bytes: text.length, max: MAX_MODEL_CHARS })
      return
    }
    let index: RecsIndex | undefined
    try {
      index = compileModel(JSON.parse(text))
    } catch {
      index = undefined
    }
    if (index === undefined) {
      logWarn('recs_model_invalid', { bytes: text.length, keptVersion: state.index?.version })
      state.text = text // not parsed again until it changes
      return
    }
    state.text = text
    state.index = index
  } catch (err) {
    state.fetchedAt = Date.now()
    logError('recs_model_read_failed', err, { keptVersion: state.index?.version })
  } finally {
    t.cancel()
    state.inflight = undefined
  }
}

/**
 * The model for this isolate, or undefined (none stored, or a cold read past `budgetMs`: that
 * request's placements stay as the origin sent them, and the read lands for the next one).
 */
export async function getRecsModel(
  kv: KVNamespace | undefined,
  options: { budgetMs: number; waitUntil: (p: Promise<unknown>) => void; now?: number },
): Promise<RecsIndex | undefined> {
  if (kv === undefined) return undefined
  let state = states.get(kv)
  if (state === undefined) states.set(kv, (state = { fetchedAt: 0 }))
  const at = options.now ?? Date.now()
  if (state.fetchedAt > 0) {
    if (at - state.fetchedAt >= MODEL_REFRESH_SECONDS * 1000 && state.inflight === undefined) {
      state.inflight = refresh(kv, state)
      options.waitUntil(state.inflight)
    }
    return state.index
  }
  const inflight = (state.inflight ??= refresh(kv, state))
  const t = timeout(options.budgetMs)
  const finished = await Promise.race([inflight.then(() => true), t.promise])
  t.cancel()
  if (finished === undefined) {
    options.waitUntil(inflight)
    return undefined
  }
  return state.index
}

/** Forgets this isolate's model, so the next lookup reads KV (after a rebuild; tests). */
export function forgetRecsModel(kv: KVNamespace): void {
  states.delete(kv)
}
