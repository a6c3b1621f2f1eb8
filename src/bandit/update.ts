import type { Env } from '../env'
import { windowState } from '../experiments/bucket'
import { getRuleset } from '../rules/store'
import { logError, logWarn } from '../util/log'
import { allocate, type Allocation } from './allocate'
import { banditConfigs, type BanditConfig } from './config'
import { cohortSource } from './counts'
import { countsOf, periodsOf, readPeriodHistory, type BanditCountsSource } from './periods'
import { seededRng, type Rng } from '../util/random'
import { DEFAULT_DRAWS } from './thompson'
import { KEPT_PERIODS, parseWeightsDoc, weightsKey, type WeightsDoc } from './weights'

/**
 * New weights are written at least this long before they come into force: KV takes up to 60 s
 * to reach every location, and isolates re-read it every `settings.refreshSeconds` (10 s by
 * default). An isolate that has not re-read yet keeps the previous entry, which is still in force.
 */
export const LEAD_MS = 2 * 60_000
/** The cron runs every 5 minutes (wrangler.toml): the window in which a boundary is prepared. */
export const CRON_MS = 5 * 60_000

export type BanditUpdate =
  | { experiment: string; action: 'updated'; from: number; version: number; allocation: Allocation }
  | { experiment: string; action: 'skipped'; why: string }

export interface UpdateOptions {
  rng?: Rng
  draws?: number
  /** Where counts come from (default: `bandit_counts` in DB). */
  source?: BanditCountsSource
}

/** The first boundary of `every` minutes that is at least LEAD_MS after `now`. */
export function nextBoundary(now: number, everyMinutes: number): number {
  const every = everyMinutes * 60_000
  return Math.ceil((now + LEAD_MS) / every) * every
}

async function readDoc(kv: KVNamespace, experiment: string): Promise<WeightsDoc | undefined> {
  const text = await kv.get(weightsKey(experiment), 'text')
  return text === null ? undefined : parseWeightsDoc(text, experiment)
}

/**
 * One bandit's update, when due: a boundary of `every` minutes is near (within one cron
 * interval after the lead time) and has no weights yet, or the bandit has no weights at all.
 * The history row goes to D1 first, then KV: weights never come into force without the record
 * results need to weight their period.
 */
export async function updateBandit(
  env: Required<Pick<Env, 'RULES' | 'DB'>>,
  config: BanditConfig,
  now: number,
  options: UpdateOptions = {},
): Promise<BanditUpdate> {
  const { experiment } = config
  if (config.stopped) return { experiment, action: 'skipped', why: 'experiment stopped' }
  const window = windowState(config, new Date(now))
  if (window !== 'running') return { experiment, action: 'skipped', why: `experiment ${window}` }
  const doc = await readDoc(env.RULES, experiment)
  const from = nextBoundary(now, config.every)
  const latest = doc?.periods[doc.periods.length - 1]
  if (latest !== undefined && latest.from >= from)
    return { experiment, action: 'skipped', why: 'weights for the next period are already set' }
  if (doc !== undefined && from - now > LEAD_MS + CRON_MS) return { experiment, action: 'skipped', why: 'not yet due' }

  const history = await readPeriodHistory(env.DB, experiment)
  const source = options.source ?? cohortSource(env.DB)
  const periods = periodsOf(config, history, await source(config))
  const allocation = allocate(config, countsOf(periods), options.rng ?? seededRng(now), options.draws ?? DEFAULT_DRAWS)
  const version = Math.max(doc?.version ?? 0, ...history.map((h) => h.version)) + 1
  await env.DB.prepare(
    'INSERT OR REPLACE INTO bandit_periods (experiment, period_from, weights, phase, version, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)',
  )
    .bind(experiment, from, JSON.stringify(allocation.weights), allocation.phase, version, now)
    .run()
  const next: WeightsDoc = {
    version,
    experiment,
    updatedAt: now,
    periods: [...(doc?.periods ?? []), { from, weights: allocation.weights, phase: allocation.phase }].slice(-KEPT_PERIODS),
  }
  await env.RULES.put(weightsKey(experiment), JSON.stringify(next))
  return { experiment, action: 'updated', from, version, allocation }
}

/**
 * The scheduled handler's bandit work (SPEC 14): for every bandit of the active ruleset, new
 * Thompson-sampling weights when a period boundary is near. One bandit's failure does not stop
 * the others. Without `RULES` or `DB` there is nothing to do.
 */
export async function runBanditUpdates(
  env: Env,
  now: number,
  waitUntil: (p: Promise<unknown>) => void,
  options: UpdateOptions = {},
): Promise<BanditUpdate[]> {
  const { RULES, DB } = env
  if (RULES === undefined || DB === undefined) return []
  const lookup = await getRuleset(RULES, { budgetMs: 5_000, waitUntil })
  if (lookup.ruleset === undefined) {
    if (lookup.source !== 'empty') logWarn('bandit_update_skipped', { rulesetSource: lookup.source })
    return []
  }
  const out: BanditUpdate[] = []
  for (const config of banditConfigs(lookup.ruleset)) {
    try {
      out.push(await updateBandit({ RULES, DB }, config, now, options))
    } catch (err) {
      logError('bandit_update_failed', err, { experiment: config.experiment })
      out.push({ experiment: config.experiment, action: 'skipped', why: 'update failed' })
    }
  }
  return out
}
