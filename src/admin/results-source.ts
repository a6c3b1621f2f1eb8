import type { Env } from '../env'
import type { ExperimentResults } from '../measure/types'

/** Computes one experiment's results from the measurement store. */
export type ResultsProvider = (env: Env, experimentId: string) => Promise<ExperimentResults | undefined>

/**
 * SEAM (issue 5, measurement): where the dashboard gets experiment results. Nothing here
 * imports the statistics module, so this builds before it exists. To wire it, call once at
 * startup (e.g. in src/app.ts):
 *
 *   import { computeResults } from './measure/results'
 *   setResultsProvider((env, id) => computeResults(env.DB!, id))
 *
 * (adapt the call to computeResults' final signature).
 */
let provider: ResultsProvider | undefined

export function setResultsProvider(p: ResultsProvider | undefined): void {
  provider = p
}

export type ResultsLookup = { results: ExperimentResults } | { results?: undefined; message: string }

/** One experiment's results for the dashboard, or the reason there are none; never throws. */
export async function loadResults(env: Env, experimentId: string): Promise<ResultsLookup> {
  if (env.DB === undefined) return { message: 'measurement not available: no DB binding' }
  if (provider === undefined) return { message: 'measurement not available in this build' }
  try {
    const results = await provider(env, experimentId)
    return results === undefined ? { message: 'no exposures recorded yet' } : { results }
  } catch {
    return { message: 'results could not be computed right now' }
  }
}
