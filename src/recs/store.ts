import { logError, logWarn } from '../util/log'
import { timeout } from '../util/timing'
import { MODEL_KEY, MODEL_META_KEY } from './model'
import { decodeModel, isLegacyModel, storedVersion } from './model-codec'
import type { RecsIndex } from './model-index'

/**
 * The recommendations model in memory, per isolate, like the ruleset (src/rules/store.ts): read
 * once, decoded once per model version, refreshed in the background when older than
 * {@link MODEL_REFRESH_SECONDS}. A refresh first reads the small `recs:model:meta` value: when
 * its version is the one in memory, the model itself is neither read nor decoded. A read error
 * or an invalid stored value keeps the last good model.
 *
 * A cold isolate waits for the model at most the request's budget, and never for a costly
 * decode: a format 2 model decodes in one pass over its item ids (about a millisecond for 5,000
 * items), a format 1 model (one JSON document, the first cron's) or one past
 * {@link INLINE_DECODE_CHARS} is decoded after the response, so the first pages leave their
 * `recommend` elements as the origin sent them.
 */
export const MODEL_REFRESH_SECONDS = 60
const REFRESH_TIMEOUT_MS = 5000
/** Larger stored values are refused unparsed (parse time would pass the CPU budget). */
export const MAX_MODEL_CHARS = 16 * 1024 * 1024
/** A cold page waits for a format 2 model up to this size (past it, or format 1: decoded after the response). */
export const INLINE_DECODE_CHARS = 4 * 1024 * 1024
const LEGACY_INLINE_CHARS = 64 * 1024

interface ModelState {
  index?: RecsIndex
  /** A format 1 model's text, to know it unchanged (it has no version line). */
  legacyText?: string
  /** The last text that did not decode, not decoded again until it changes. */
  invalidText?: string
  fetchedAt: number
  /** The read in flight: resolves when a waiting page may go on (before a deferred decode). */
  loading?: Promise<void>
  /** A read or a deferred decode is under way: no second refresh starts. */
  busy: boolean
}

const states = new WeakMap<KVNamespace, ModelState>()

/** Decodes, counting for tests how often a model is decoded (it is the costly step). */
let decodes = 0
export function modelDecodeCount(): number {
  return decodes
}

async function read(kv: KVNamespace, key: string): Promise<string | null> {
  const t = timeout(REFRESH_TIMEOUT_MS)
  try {
    return await Promise.race([kv.get(key, 'text'), t.promise.then(() => Promise.reject(new Error('KV read timed out')))])
  } finally {
    t.cancel()
  }
}

function metaVersion(text: string | null): string | undefined {
  if (text === null) return undefined
  try {
    const v: unknown = JSON.parse(text)
    const version = typeof v === 'object' && v !== null ? (v as { version?: unknown }).version : undefined
    return typeof version === 'string' ? version : undefined
  } catch {
    return undefined
  }
}

function install(state: ModelState, text: string): void {
  decodes++
  const index = decodeModel(text)
  if (index === undefined) {
    logWarn('recs_model_invalid', { bytes: text.length, keptVersion: state.index?.version })
    state.invalidText = text
    return
  }
  state.index = index
  state.legacyText = isLegacyModel(text) ? text : undefined
  state.invalidText = undefined
}

/**
 * Reads the model when it changed. Resolves `ready` once the request may stop waiting: the model
 * is in place or unchanged, or it will be decoded after the response (`deferred`).
 */
async function refresh(kv: KVNamespace, state: ModelState, cold: boolean, deferred: (p: Promise<void>) => void): Promise<void> {
  try {
    if (state.index !== undefined) {
      const meta = metaVersion(await read(kv, MODEL_META_KEY))
      if (meta === state.index.version) {
        state.fetchedAt = Date.now()
        return
      }
    }
    const text = await read(kv, MODEL_KEY)
    state.fetchedAt = Date.now()
    if (text === null) {
      state.index = undefined
      state.legacyText = undefined
      return
    }
    if (text.length > MAX_MODEL_CHARS) {
      logWarn('recs_model_too_large', { bytes: text.length, max: MAX_MODEL_CHARS })
      return
    }
    const version = storedVersion(text)
    if (text === state.invalidText || text === state.legacyText) return
    if (version !== undefined && version === state.index?.version) return
    const costly = isLegacyModel(text) ? text.length > LEGACY_INLINE_CHARS : text.length > INLINE_DECODE_CHARS
    if (cold && costly)
      // The waiting page goes on without the model; the decode runs in a later task.
      deferred(
        new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => {
          try {
            install(state, text)
          } catch (err) {
            logError('recs_model_decode_failed', err, { keptVersion: state.index?.version })
          }
        }),
      )
    else install(state, text)
  } catch (err) {
    state.fetchedAt = Date.now()
    logError('recs_model_read_failed', err, { keptVersion: state.index?.version })
  }
}

/**
 * The model for this isolate, or undefined (none stored, a cold read past `budgetMs`, or a cold
 * model whose decode runs after the response: that request's placements stay as the origin sent
 * them, and the model lands for the next one).
 */
export async function getRecsModel(
  kv: KVNamespace | undefined,
  options: { budgetMs: number; waitUntil: (p: Promise<unknown>) => void; now?: number },
): Promise<RecsIndex | undefined> {
  if (kv === undefined) return undefined
  let state = states.get(kv)
  if (state === undefined) states.set(kv, (state = { fetchedAt: 0, busy: false }))
  const at = options.now ?? Date.now()
  const s = state
  const begin = (cold: boolean): Promise<void> => {
    s.busy = true
    let later: Promise<void> | undefined
    const ready = refresh(kv, s, cold, (d) => {
      later = d
      options.waitUntil(d)
    })
    s.loading = ready
    void ready
      .then(() => later)
      .finally(() => {
        s.busy = false
        s.loading = undefined
      })
    return ready
  }
  if (state.fetchedAt > 0) {
    if (at - state.fetchedAt >= MODEL_REFRESH_SECONDS * 1000 && !state.busy) options.waitUntil(begin(false))
    return state.index
  }
  const ready = state.loading ?? begin(true)
  const t = timeout(options.budgetMs)
  const finished = await Promise.race([ready.then(() => true), t.promise])
  t.cancel()
  if (finished === undefined) {
    options.waitUntil(ready)
    return undefined
  }
  return state.index
}

/** Forgets this isolate's model, so the next lookup reads KV (after a rebuild; tests). */
export function forgetRecsModel(kv: KVNamespace): void {
  states.delete(kv)
}
