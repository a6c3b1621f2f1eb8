import type { Env } from '../env'
import { experimentResults } from '../measure/results'
import type { ExperimentResults } from '../measure/types'
import { getRuleset } from '../rules/store'

/** Computes one experiment's results from the measurement store. */
export type ResultsProvider = (env: Env, experimentId: string) => Promise<ExperimentResults | undefined>

/** The measurement store's results, computed with the active ruleset's split and goals. */
const fromStore: ResultsProvider = async (env, experimentId) => {
  if (env.DB === undefined) return undefined
  const lookup = await getRuleset(env.RULES, { budgetMs: 1000, waitUntil: (p) => void p.catch(() => undefined) })
  return experimentResults(env.DB, lookup.ruleset, experimentId)
}

let provider: ResultsProvider = fromStore

/** Replaces where results come from (tests); `undefined` restores the measurement store. */
export function setResultsProvider(p: ResultsProvider | undefined): void {
  provider = p ?? fromStore
}

export type ResultsLookup = { results: ExperimentResults } | { results?: undefined; message: string }

/** One experiment's results for the dashboard, or the reason there are none; never throws. */
export async function loadResults(env: Env, experimentId: string): Promise<ResultsLookup> {
  if (env.DB === undefined) return { message: 'measurement not available: no DB binding' }
  try {
    const results = await provider(env, experimentId)
    return results === undefined ? { message: 'no exposures recorded yet' } : { results }
  } catch {
    return { message: 'results could not be computed right now' }
  }
}
