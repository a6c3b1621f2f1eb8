import { Hono } from 'hono'
import { jsonError } from '../http/errors'
import { requireAdmin } from '../admin/auth'
import type { Env } from '../env'
import { experimentResults } from '../measure/results'
import { servedReport } from '../measure/served'
import { getRuleset } from '../rules/store'
import { logError } from '../util/log'
import { backgroundRunner } from '../util/background'
import { EXPERIMENT_ID, experimentIdParam, measurementDb } from '../http/params'

const NO_STORE = { 'cache-control': 'no-store' }
const MAX_SERVED_DAYS = 366

/**
 * Measurement read API (admin): `GET api/results/:experimentId[?correction=bh][&segment=<id>]`
 * (SPEC 7, 12.1) returns `ExperimentResults` (src/measure/types.ts); `__holdout__` compares the global holdout with
 * personalized visitors. `GET api/served?days=30` returns how often each variant was served.
 * Errors are `{ error, details }`.
 */
export const results = new Hono<{ Bindings: Env }>()
  .use('/api/results/*', requireAdmin())
  .use('/api/served', requireAdmin())
  .get('/api/results/:experimentId', async function experimentResultsRoute(c) {
    const id = experimentIdParam(c)
    if (id instanceof Response) return id
    const db = measurementDb(c)
    if (db instanceof Response) return db
    const correction = c.req.query('correction') ?? 'holm'
    if (correction !== 'holm' && correction !== 'bh')
      return jsonError(c, 400, 'invalid_correction', 'correction is "holm" (default) or "bh"')
    const segment = c.req.query('segment') ?? '*'
    if (segment !== '*' && !EXPERIMENT_ID.test(segment))
      return jsonError(c, 400, 'invalid_segment', 'segment is "*" (all visitors) or a segment id')
    const lookup = await getRuleset(c.env.RULES, { budgetMs: 1_000, waitUntil: backgroundRunner(c) })
    let body
    try {
      body = await experimentResults(db, lookup.ruleset, id, { correction, segment })
    } catch (err) {
      logError('measure_results_failed', err)
      return jsonError(c, 503, 'results_unavailable', 'the measurement store could not be read; try again')
    }
    if (body === undefined) {
      return jsonError(
        c,
        404,
        'unknown_experiment',
        `no experiment "${id}" in the active ruleset and no exposures recorded for it`,
      )
    }
    return c.json(body, 200, NO_STORE)
  })
  .get('/api/served', async function servedRoute(c) {
    const raw = c.req.query('days') ?? '30'
    const days = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN
    if (!(days >= 1 && days <= MAX_SERVED_DAYS)) {
      return jsonError(c, 400, 'invalid_days', `days is a whole number from 1 to ${MAX_SERVED_DAYS}`)
    }
    const db = measurementDb(c)
    if (db instanceof Response) return db
    try {
      return c.json(await servedReport(db, days), 200, NO_STORE)
    } catch (err) {
      logError('measure_served_failed', err)
      return jsonError(c, 503, 'results_unavailable', 'the measurement store could not be read; try again')
    }
  })
