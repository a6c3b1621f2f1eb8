import type { Env } from '../env'
import { aggregateEvent } from '../measure/aggregate'
import { type CountRow, coocKind, recsServedKind, type ServedSlotRow } from './counts'

/**
 * The one seam between recommendations and measurement's aggregator: a view or an event adds
 * its rows as one aggregated event (merged in memory, flushed in the background through
 * `EVENTS` or `DB`), so a page view costs no D1 statement and no queue message of its own.
 */
export interface RecsTally {
  add(counts: readonly CountRow[], served?: readonly ServedSlotRow[]): void
}

/** The tally for this request, or undefined when neither `DB` nor `EVENTS` is bound. */
export function recsTally(env: Env, waitUntil: (p: Promise<unknown>) => void): RecsTally | undefined {
  if (env.DB === undefined && env.EVENTS === undefined) return undefined
  return {
    add(counts, served = []) {
      aggregateEvent(env, waitUntil, [
        { kind: coocKind, rows: counts },
        { kind: recsServedKind, rows: served },
      ])
    },
  }
}
