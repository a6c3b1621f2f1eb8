import { Hono } from 'hono'
import { requireAdmin } from '../admin/auth'
import { banditConfigs } from '../bandit/config'
import { cohortSource } from '../bandit/counts'
import { seededRng } from '../util/random'
import { banditResults } from '../bandit/results'
import type { Env } from '../env'
import { getRuleset } from '../rules/store'
import { backgroundRunner } from '../util/background'
import { logError } from '../util/log'

const EXPERIMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/
const NO_STORE = { 'cache-control': 'no-store' }

/**
 * `GET api/bandit/:experimentId` (admin): a bandit's results (SPEC 14, `BanditResults` in
 * src/bandit/results.ts): weights in force and per period, period-weighted estimates, P(best),
 * and the sample-ratio check against the weights in force. Errors are `{ error, details }`.
 */
export const bandit = new Hono<{ Bindings: Env }>()
  .use('/api/bandit/*', requireAdmin())
  .get('/api/bandit/:experimentId', async function banditResultsRoute(c) {
    const id = c.req.param('experimentId')
    if (!EXPERIMENT_ID.test(id))
      return c.json(
        { error: 'invalid_experiment_id', details: 'experiment ids are letters, digits, "_", "-", ".", ":" (at most 100)' },
        400,
        NO_STORE,
      )
    const db = c.env.DB
    if (db === undefined)
      return c.json(
        { error: 'measurement_disabled', details: 'no D1 database is bound as DB, so nothing is measured' },
        503,
        NO_STORE,
      )
    const { ruleset } = await getRuleset(c.env.RULES, { budgetMs: 1_000, waitUntil: backgroundRunner(c) })
    const config = ruleset === undefined ? undefined : banditConfigs(ruleset).find((b) => b.experiment === id)
    if (config === undefined)
      return c.json(
        { error: 'unknown_bandit', details: `no experiment "${id}" with "allocation": "bandit" in the active ruleset` },
        404,
        NO_STORE,
      )
    try {
      const now = Date.now()
      return c.json(await banditResults(db, config, cohortSource(db), now, seededRng(now)), 200, NO_STORE)
    } catch (err) {
      logError('bandit_results_failed', err, { experiment: id })
      return c.json(
        { error: 'results_unavailable', details: 'the measurement store could not be read; try again' },
        503,
        NO_STORE,
      )
    }
  })
