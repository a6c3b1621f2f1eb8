import type { Env } from '../env'
import { logError } from '../util/log'
import type { DiscoverResult } from './discover'

/**
 * The latest discovery over the stored sample (KV `segments:latest` in `RULES`): written after each
 * discovery with `k = auto` from the sample (the daily scheduled job, the API, the dashboard's
 * "recompute now"), read by the dashboard (shown with its time, no clustering in the request) and
 * by opportunities (its clusters are the proposed segments). Without assignments.
 */
export const LATEST_KEY = 'segments:latest'

export interface LatestDiscovery {
  /** When it was computed (ISO). */
  at: string
  /** Days of sample it clustered. */
  days: number
  result: DiscoverResult
}

function isLatest(v: unknown): v is LatestDiscovery {
  if (typeof v !== 'object' || v === null) return false
  const o = v as Record<string, unknown>
  if (typeof o.at !== 'string' || typeof o.days !== 'number') return false
  const r = o.result as Record<string, unknown> | null
  return typeof r === 'object' && r !== null && typeof r.k === 'number' && Array.isArray(r.clusters)
}

/** The stored latest discovery, or undefined (none, unbound, unreadable). */
export async function readLatestDiscovery(kv: KVNamespace | undefined): Promise<LatestDiscovery | undefined> {
  if (kv === undefined) return undefined
  try {
    const v: unknown = await kv.get(LATEST_KEY, 'json')
    return isLatest(v) ? v : undefined
  } catch (err) {
    logError('segments_latest_read_failed', err)
    return undefined
  }
}

export async function writeLatestDiscovery(env: Env, days: number, result: DiscoverResult, now: number): Promise<void> {
  if (env.RULES === undefined) return
  const { assignments: _dropped, ...rest } = result
  const latest: LatestDiscovery = { at: new Date(now).toISOString(), days, result: rest }
  try {
    await env.RULES.put(LATEST_KEY, JSON.stringify(latest))
  } catch (err) {
    logError('segments_latest_write_failed', err)
  }
}
