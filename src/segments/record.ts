import type { Context } from '../context/types'
import type { Env } from '../env'
import { aggregate } from '../measure/aggregate'
import type { CompiledRuleset } from '../rules/compile'
import { logError } from '../util/log'
import { OfferedToday, sampleDay, sampleEntry, sampleKind, sampleRowOf } from './sample'

/** Who this isolate has offered today (in memory only). */
const offered = new OfferedToday()

/**
 * Offers this view's visitor to the segment sample (analytics consent, a known visitor, not a
 * bot; once per isolate and day). No I/O of its own: the row joins the isolate's aggregate
 * buffer (`sample` kind), which is flushed in the background with the rest of measurement.
 */
export function offerSample(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  ruleset: CompiledRuleset,
  ctx: Context,
  now: number = Date.now(),
): void {
  try {
    const id = ctx.visitor?.id
    // Nothing could store the row (the aggregator warns once); building it reads `geo`.
    if (id === undefined || (env.EVENTS === undefined && env.DB === undefined)) return
    const row = sampleRowOf(
      ctx,
      ruleset.categories.map((c) => c.id),
      now,
    )
    if (row === undefined || !offered.first(id, now)) return
    aggregate(env, waitUntil, sampleKind, sampleDay(sampleEntry(row, now)))
  } catch (err) {
    logError('segments_sample_failed', err)
  }
}
