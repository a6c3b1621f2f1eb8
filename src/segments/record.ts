import type { Context, VisitorState } from '../context/types'
import type { Env } from '../env'
import { identityOf } from '../identity/state'
import { aggregate, measurementBound } from '../measure/aggregate'
import type { CompiledRuleset } from '../rules/compile'
import { logError } from '../util/log'
import {
  OfferedToday,
  progressOf,
  SAMPLE_DAILY_CAP,
  sampleDay,
  sampleEntry,
  sampleExposuresOf,
  sampleKind,
  sampleRowOf,
} from './sample'

/** Who this isolate has offered today (in memory only). */
const offered = new OfferedToday()

const runningCache = new WeakMap<CompiledRuleset, ReadonlySet<string>>()
/** The experiments of the ruleset's placements (once per compiled ruleset). */
export function runningExperiments(ruleset: CompiledRuleset): ReadonlySet<string> {
  let ids = runningCache.get(ruleset)
  if (ids === undefined) {
    const set = new Set<string>()
    for (const p of ruleset.placements) for (const r of p.rules) if (r.experiment !== undefined) set.add(r.experiment.id)
    ids = set
    runningCache.set(ruleset, ids)
  }
  return ids
}

/**
 * Offers this view's visitor to the segment sample (analytics consent, a known visitor, not a
 * bot; once per isolate and day, and again when the visitor's experiments progressed since, with
 * the same slot and priority so the later state replaces the earlier one). No I/O of its own: the row joins the isolate's aggregate
 * buffer (`sample` kind), which is flushed in the background with the rest of measurement.
 * `state` is the visitor state of this request: its measurement memory (updated by
 * `recordPageView` just before) gives the row's experiments, arms and goals converted on.
 */
export function offerSample(
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  ruleset: CompiledRuleset,
  ctx: Context,
  state?: VisitorState,
  now: number = Date.now(),
): void {
  try {
    const id = ctx.visitor?.id
    // Nothing could store the row; building it reads `geo`.
    if (id === undefined || !measurementBound(env)) return
    // Who may be sampled at all (sampleRowOf's own conditions), before anything is built.
    if (!ctx.consent.analytics || ctx.device.isBot || ctx.behavior === undefined) return
    const memos = state === undefined ? undefined : identityOf(state)?.record?.memos
    const exposures = memos === undefined ? [] : sampleExposuresOf(memos, runningExperiments(ruleset))
    // Once per isolate and day, and again (same slot and priority) when the experiments progressed.
    const ticket = offered.offer(id, now, progressOf(exposures))
    if (ticket === undefined) return
    // Built only now: a visitor's other views this day cost nothing here (the row reads `geo`).
    const row = sampleRowOf(
      ctx,
      ruleset.categories.map((c) => c.id),
      now,
    )
    if (row === undefined) return
    aggregate(env, waitUntil, sampleKind, sampleDay(sampleEntry(row, now, Math.random, SAMPLE_DAILY_CAP, exposures, ticket)))
  } catch (err) {
    logError('segments_sample_failed', err)
  }
}
