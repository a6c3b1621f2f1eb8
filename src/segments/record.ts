import type { Context } from '../context/types'
import type { Env } from '../env'
import type { CompiledRuleset } from '../rules/compile'
import { logError } from '../util/log'
import { SampleBuffer, sampleRowOf, writeSampleBatch } from './sample'

/** Flush at most this often per isolate, or sooner past FLUSH_OFFERS offers (as measurement, SPEC 12). */
export const FLUSH_MS = 10_000
export const FLUSH_OFFERS = 1000

/** One buffer per isolate: offers are aggregated here, never written per view. */
const buffer = new SampleBuffer()
let lastFlush = 0
let flushing = false

/**
 * Offers this view's visitor to the segment sample (analytics consent, a known visitor, not a
 * bot). Costs no I/O of its own: at most one background flush per `FLUSH_MS` per isolate.
 */
export function offerSample(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  ruleset: CompiledRuleset,
  ctx: Context,
  now: number = Date.now(),
): void {
  try {
    const db = env.DB
    const id = ctx.visitor?.id
    if (db === undefined || id === undefined) return
    const row = sampleRowOf(
      ctx,
      ruleset.categories.map((c) => c.id),
      now,
    )
    if (row === undefined) return
    buffer.offer(id, row, now)
    if (flushing || (now - lastFlush < FLUSH_MS && buffer.pending < FLUSH_OFFERS)) return
    flushing = true
    lastFlush = now
    waitUntil(flushSample(db).finally(() => (flushing = false)))
  } catch (err) {
    logError('segments_sample_failed', err)
  }
}

/** Writes what the buffer holds; never rejects (a lost sample batch is logged, not retried). */
export async function flushSample(db: D1Database): Promise<number> {
  let written = 0
  for (const batch of buffer.take()) {
    try {
      written += await writeSampleBatch(db, batch)
    } catch (err) {
      logError('segments_sample_flush_failed', err, { rows: batch.rows.length })
    }
  }
  return written
}
