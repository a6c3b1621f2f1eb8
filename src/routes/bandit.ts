import { Hono } from 'hono'
import { jsonError } from '../http/errors'
import { requireAdmin } from '../admin/auth'
import { banditConfigs } from '../bandit/config'
import { cohortSource } from '../bandit/counts'
import { seededRng } from '../util/random'
import { banditResults } from '../bandit/results'
import type { Env } from '../env'
import { getRuleset } from '../rules/store'
import { backgroundRunner } from '../util/background'
import { logError } from '../util/log'
import { experimentIdParam, measurementDb } from '../http/params'

const NO_STORE = { 'cache-control': 'no-store' }

/**
 * `GET api/bandit/:experimentId` (admin): a bandit's results (SPEC 14, `BanditResults` in
 * src/bandit/results.ts): weights in force and per period, period-weighted estimates, P(best),
 * and the sample-ratio check against the weights in force. Errors are `{ error, details }`.
 */
export const bandit = new Hono<{ Bindings: Env }>()
  .use('/api/bandit/*', requireAdmin())
  .get('/api/bandit/:experimentId', async function banditResultsRoute(c) {
    const id = experimentIdParam(c)
    if (id instanceof Response) return id
    const db = measurementDb(c)
    if (db instanceof Response) return db
    const { ruleset } = await getRuleset(c.env.RULES, { budgetMs: 1_000, waitUntil: backgroundRunner(c) })
    const config = ruleset === undefined ? undefined : banditConfigs(ruleset).find((b) => b.experiment === id)
    if (config === undefined)
      return jsonError(c, 404, 'unknown_bandit', `no experiment "${id}" with "allocation": "bandit" in the active ruleset`)
    try {
      const now = Date.now()
      return c.json(await banditResults(db, config, cohortSource(db), now, seededRng(now)), 200, NO_STORE)
    } catch (err) {
      logError('bandit_results_failed', err, { experiment: id })
      return jsonError(c, 503, 'results_unavailable', 'the measurement store could not be read; try again')
    }
  })
