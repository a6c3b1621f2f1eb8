import type { CompiledRuleset } from '../rules/compile'
import { logError, logWarn } from '../util/log'
import { timeout } from '../util/timing'
import { isBandit } from './config'
import { parseWeightsDoc, periodInForce, weightsKey, type WeightsDoc } from './weights'

/** A refresh that hangs longer than this is abandoned and retried later. */
const REFRESH_TIMEOUT_MS = 5000

/**
 * What the Worker knows of one bandit's weights at a given time:
 * - `{ weights, from }`: the weights in force and since when;
 * - `undefined`: no weights stored yet (before the first scheduled update): the configured split
 *   is in force, which is what the update's burn-in also writes;
 * - `'unknown'`: never read in this isolate (cold lookup past the budget, KV error): the visitor
 *   is not bucketed into the bandit with weights that may not be the ones in force.
 */
export type BanditWeightsLookup = (
  experimentId: string,
  at: number,
) => { weights: Record<string, number>; from: number } | undefined | 'unknown'

interface Entry {
  doc?: WeightsDoc
  /** Whether a read has completed (the key may still be absent). */
  known: boolean
  fetchedAt: number
  inflight?: Promise<void>
}

// Per KV binding, per isolate, per experiment, like the ruleset (src/rules/store.ts).
const states = new WeakMap<KVNamespace, Map<string, Entry>>()
const banditIdsCache = new WeakMap<CompiledRuleset, readonly string[]>()

/** Ids of the ruleset's bandit experiments, computed once per compiled ruleset. */
export function banditIds(ruleset: CompiledRuleset): readonly string[] {
  let ids = banditIdsCache.get(ruleset)
  if (ids !== undefined) return ids
  const set = new Set<string>()
  for (const pl of ruleset.placements)
    for (const r of pl.rules) if (r.experiment !== undefined && isBandit(r.experiment)) set.add(r.experiment.id)
  ids = [...set]
  banditIdsCache.set(ruleset, ids)
  return ids
}

async function refresh(kv: KVNamespace, id: string, entry: Entry): Promise<void> {
  const t = timeout(REFRESH_TIMEOUT_MS)
  try {
    const text = await Promise.race([
      kv.get(weightsKey(id), 'text'),
      t.promise.then(() => Promise.reject(new Error('KV read timed out'))),
    ])
    entry.fetchedAt = Date.now()
    if (text === null) {
      entry.doc = undefined
      entry.known = true
      return
    }
    const doc = parseWeightsDoc(text, id)
    if (doc === undefined) {
      logWarn('bandit_weights_invalid', { experiment: id, bytes: text.length, keptVersion: entry.doc?.version })
      return // keep the last good weights (or stay unknown)
    }
    // An older version never replaces a newer one (KV reads may lag behind each other).
    if (entry.doc === undefined || doc.version >= entry.doc.version) entry.doc = doc
    entry.known = true
  } catch (err) {
    entry.fetchedAt = Date.now()
    logError('bandit_weights_read_failed', err, { experiment: id, keptVersion: entry.doc?.version })
  } finally {
    t.cancel()
    entry.inflight = undefined
  }
}

export interface GetBanditWeightsOptions {
  /** Bound on a cold lookup, in ms. */
  budgetMs: number
  /** How old the weights in memory may get before a background refresh, in ms. */
  maxAgeMs: number
  waitUntil: (p: Promise<unknown>) => void
  now?: number
}

function lookupFrom(entries: Map<string, Entry>): BanditWeightsLookup {
  return (id, at) => {
    const entry = entries.get(id)
    if (entry === undefined || !entry.known) return 'unknown'
    if (entry.doc === undefined) return undefined
    const p = periodInForce(entry.doc, at)
    return p === undefined ? undefined : { weights: p.weights, from: p.from }
  }
}

/**
 * The bandit weights of `ids` for this isolate, read from KV once and refreshed in the
 * background (stale-while-revalidate) like the ruleset. Warm: no wait at all. Cold: all keys
 * are read in parallel, waiting at most `budgetMs`; what has not arrived is `'unknown'`.
 */
export async function getBanditWeights(
  kv: KVNamespace | undefined,
  ids: readonly string[],
  options: GetBanditWeightsOptions,
): Promise<BanditWeightsLookup> {
  if (kv === undefined || ids.length === 0) return () => 'unknown'
  let entries = states.get(kv)
  if (entries === undefined) {
    entries = new Map()
    states.set(kv, entries)
  }
  const at = options.now ?? Date.now()
  const cold: Promise<void>[] = []
  for (const id of ids) {
    let entry = entries.get(id)
    if (entry === undefined) {
      entry = { known: false, fetchedAt: 0 }
      entries.set(id, entry)
    }
    if (entry.fetchedAt === 0) {
      entry.inflight ??= refresh(kv, id, entry)
      cold.push(entry.inflight)
    } else if (at - entry.fetchedAt >= options.maxAgeMs && entry.inflight === undefined) {
      entry.inflight = refresh(kv, id, entry)
      options.waitUntil(entry.inflight)
    }
  }
  if (cold.length > 0) {
    const all = Promise.all(cold)
    const t = timeout(options.budgetMs)
    const finished = await Promise.race([all.then(() => true), t.promise])
    t.cancel()
    if (finished === undefined) options.waitUntil(all)
  }
  return lookupFrom(entries)
}

/** Forgets the weights in memory (tests, and the admin after a manual change). */
export function forgetBanditWeights(kv: KVNamespace): void {
  states.delete(kv)
}

/**
 * The weights lookup for a request on `ruleset`, started at once so it runs alongside the
 * cookie checks; resolves to undefined at once when the ruleset has no bandit.
 */
export function banditWeightsFor(
  ruleset: CompiledRuleset,
  kv: KVNamespace | undefined,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<BanditWeightsLookup | undefined> {
  const ids = banditIds(ruleset)
  if (ids.length === 0) return Promise.resolve(undefined)
  return getBanditWeights(kv, ids, {
    budgetMs: ruleset.settings.budgetMs,
    maxAgeMs: ruleset.settings.refreshSeconds * 1000,
    waitUntil,
  })
}
