import { Hono } from 'hono'
import { requireAdmin } from '../admin/auth'
import type { Env } from '../env'
import { experimentResults } from '../measure/results'
import { getRuleset } from '../rules/store'
import { logError } from '../util/log'

// Experiment ids follow the ruleset's id rule (src/rules/schema.ts), plus the holdout's `__holdout__`.
const EXPERIMENT_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,99}$/

/**
 * `GET /__veneer/api/results/:experimentId` (SPEC 7, admin): the experiment's results as
 * `ExperimentResults` (src/measure/types.ts). `__holdout__` compares the global holdout with
 * personalized visitors. Errors are `{ error, details }`.
 */
export const results = new Hono<{ Bindings: Env }>()
  .use('/api/results/*', requireAdmin())
  .get('/api/results/:experimentId', async function experimentResultsRoute(c) {
    const id = c.req.param('experimentId')
    const noStore = { 'cache-control': 'no-store' }
    if (!EXPERIMENT_ID.test(id)) {
      return c.json({ error: 'invalid_experiment_id', details: 'experiment ids are letters, digits, "_", "-", ".", ":" (at most 100)' }, 400, noStore)
    }
    const db = c.env.DB
    if (db === undefined) {
      return c.json({ error: 'measurement_disabled', details: 'no D1 database is bound as DB, so nothing is measured' }, 503, noStore)
    }
    const lookup = await getRuleset(c.env.RULES, { budgetMs: 1_000, waitUntil: (p) => c.executionCtx.waitUntil(p) })
    let body
    try {
      body = await experimentResults(db, lookup.ruleset, id)
    } catch (err) {
      logError('measure_results_failed', err)
      return c.json({ error: 'results_unavailable', details: 'the measurement store could not be read; try again' }, 503, noStore)
    }
    if (body === undefined) {
      return c.json({ error: 'unknown_experiment', details: `no experiment "${id}" in the active ruleset and no exposures recorded for it` }, 404, noStore)
    }
    return c.json(body, 200, noStore)
  })
