import type { Env } from '../env'
import { logError } from '../util/log'
import { type CountRow, type ServedSlotRow, sumCounts, sumServed, writeCounts } from './counts'

/**
 * The in-isolate tally of recommendation counters (SPEC 12's rule: aggregated before storage).
 * Rows are summed in memory and written at most every {@link FLUSH_MS} or when
 * {@link FLUSH_ROWS} distinct rows are pending: a page view costs no D1 statement of its own.
 * The wait runs inside `waitUntil`, so a quiet isolate still flushes what it holds.
 *
 * This is the one seam with measurement's aggregator: `recsTally(env, waitUntil)` is all the
 * request path knows.
 */
export const FLUSH_MS = 10_000
export const FLUSH_ROWS = 1_000
/** The wait before a flush; tests shorten it (a waitUntil that sleeps 10 s would stall them). */
export const tallyTiming = { flushMs: FLUSH_MS }

export interface RecsTally {
  count(rows: readonly CountRow[]): void
  served(rows: readonly ServedSlotRow[]): void
}

interface Pending {
  counts: CountRow[]
  served: ServedSlotRow[]
  timer?: Promise<void>
}

const pending = new WeakMap<D1Database, Pending>()

/** Writes everything pending for `db` now (tests; the timer calls it too). Never rejects. */
export async function flushRecsTally(db: D1Database): Promise<number> {
  const p = pending.get(db)
  if (p === undefined || (p.counts.length === 0 && p.served.length === 0)) return 0
  const counts = p.counts
  const served = p.served
  p.counts = []
  p.served = []
  try {
    return await writeCounts(db, counts, served)
  } catch (err) {
    // Put them back: the next flush tries again (bounded: the buffer is capped on add).
    p.counts.push(...counts)
    p.served.push(...served)
    logError('recs_tally_flush_failed', err, { rows: counts.length + served.length })
    return 0
  }
}

function compact(p: Pending): void {
  p.counts = sumCounts(p.counts)
  p.served = sumServed(p.served)
}

/** The tally for this request, or undefined when no `DB` is bound (nothing is counted). */
export function recsTally(env: Env, waitUntil: (p: Promise<unknown>) => void): RecsTally | undefined {
  const db = env.DB
  if (db === undefined) return undefined
  let p = pending.get(db)
  if (p === undefined) pending.set(db, (p = { counts: [], served: [] }))
  const state = p
  const schedule = () => {
    if (state.counts.length + state.served.length >= FLUSH_ROWS) compact(state)
    if (state.counts.length + state.served.length >= FLUSH_ROWS) {
      waitUntil(flushRecsTally(db))
      return
    }
    if (state.timer !== undefined) return
    state.timer = new Promise<void>((resolve) => setTimeout(resolve, tallyTiming.flushMs)).then(async () => {
      state.timer = undefined
      await flushRecsTally(db)
    })
    waitUntil(state.timer)
  }
  return {
    count(rows) {
      if (rows.length === 0) return
      state.counts.push(...rows)
      schedule()
    },
    served(rows) {
      if (rows.length === 0) return
      state.served.push(...rows)
      schedule()
    },
  }
}
