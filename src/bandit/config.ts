import type { CompiledRuleset } from '../rules/compile'
import type { ExperimentDoc } from '../rules/schema'

export const DEFAULT_BURN_IN = 100
export const DEFAULT_FLOOR_PERCENT = 1
export const DEFAULT_EVERY_MINUTES = 60

/** A bandit experiment of the active ruleset with its settings resolved. */
export interface BanditConfig {
  experiment: string
  placement: string
  /** The configured split: the allocation during burn-in and before the first update. */
  split: Readonly<Record<string, number>>
  /** Arms of positive weight in `split` (a weight of 0 retires an arm), in ascending id order. */
  arms: readonly string[]
  goal: string
  burnIn: number
  floor: number
  /** Minutes between updates. */
  every: number
  start?: string
  end?: string
  /** Stopped by a guardrail or by hand (SPEC 12.2): no more updates. */
  stopped: boolean
}

/** Whether an experiment allocates adaptively. */
export function isBandit(exp: ExperimentDoc): boolean {
  return exp.allocation === 'bandit'
}

/** The bandit experiments of a ruleset, settings resolved (the goal defaults to the first goal). */
export function banditConfigs(ruleset: CompiledRuleset): BanditConfig[] {
  const out: BanditConfig[] = []
  const seen = new Set<string>()
  const firstGoal = ruleset.goals[0]?.id
  for (const pl of ruleset.placements) {
    for (const rule of pl.rules) {
      const e = rule.experiment
      if (e === undefined || !isBandit(e) || seen.has(e.id)) continue
      const goal = e.goal ?? firstGoal
      if (goal === undefined) continue // refused on publish; kept out here as well
      seen.add(e.id)
      out.push({
        experiment: e.id,
        placement: pl.id,
        split: e.split,
        arms: Object.keys(e.split)
          .filter((a) => (e.split[a] ?? 0) > 0)
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
        goal,
        burnIn: e.burnIn ?? DEFAULT_BURN_IN,
        floor: e.floor ?? DEFAULT_FLOOR_PERCENT,
        every: e.every ?? DEFAULT_EVERY_MINUTES,
        start: e.start,
        end: e.end,
        stopped: e.stopped !== undefined,
      })
    }
  }
  return out
}
