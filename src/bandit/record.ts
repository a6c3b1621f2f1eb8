import type { ExposureMemo } from '../measure/memory'
import { ALL_SEGMENT, EXPOSURE_GOAL, type StatsRow } from '../measure/stats-row'
import type { CompiledRuleset } from '../rules/compile'
import { banditConfigs, type BanditConfig } from './config'
import type { BanditRow } from './row'

// Resolved once per compiled ruleset (one per version per isolate), not per event.
const configsCache = new WeakMap<CompiledRuleset, ReadonlyMap<string, BanditConfig>>()

function configsOf(ruleset: CompiledRuleset): ReadonlyMap<string, BanditConfig> {
  let map = configsCache.get(ruleset)
  if (map === undefined) {
    map = new Map(banditConfigs(ruleset).map((c) => [c.experiment, c]))
    configsCache.set(ruleset, map)
  }
  return map
}

/** Start of the `every`-minute bucket that contains `minute` (minutes since the epoch), in ms. */
export function bucketOf(minute: number, everyMinutes: number): number {
  return Math.floor(minute / everyMinutes) * everyMinutes * 60_000
}

/**
 * The bandit cohort counts of one measured event (SPEC 14), from the measurement rows it produced
 * (src/measure/visit.ts) and the visitor's memory: a bandit exposure adds a visitor to the bucket
 * of its exposure time; reaching the bandit's goal adds a conversion to that same bucket, read
 * from the memo's exposure time `t`. A memo without `t` (a cookie from before the bandit) counts
 * nothing here. Only the all-visitors rows (segment `*`) are read, so each visitor counts once.
 */
export function banditRowsOf(ruleset: CompiledRuleset, stats: readonly StatsRow[], memos: readonly ExposureMemo[]): BanditRow[] {
  const configs = configsOf(ruleset)
  if (configs.size === 0) return []
  const out: BanditRow[] = []
  for (const r of stats) {
    if (r.segment !== ALL_SEGMENT) continue
    const config = configs.get(r.experiment)
    if (config === undefined) continue
    const t = memos.find((m) => m.experiment === r.experiment)?.t
    if (t === undefined) continue
    const bucket = bucketOf(t, config.every)
    if (r.goal === EXPOSURE_GOAL && r.visitors > 0)
      out.push({ experiment: r.experiment, bucket, arm: r.arm, goal: EXPOSURE_GOAL, visitors: r.visitors, conversions: 0 })
    else if (r.goal === config.goal && r.conversions > 0)
      out.push({ experiment: r.experiment, bucket, arm: r.arm, goal: r.goal, visitors: 0, conversions: r.conversions })
  }
  return out
}
