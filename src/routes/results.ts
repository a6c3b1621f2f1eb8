import { Hono } from 'hono'
import { requireAdmin } from '../admin/auth'
import type { Env } from '../env'
import { experimentResults } from '../measure/results'
import { servedReport } from '../measure/served'
import { getRuleset } from '../rules/store'
import { logError } from '../util/log'
import { backgroundRunner } from '../util/background'

// Experiment ids follow the ruleset's id rule (src/rules/schema.ts), plus the holdout's `__holdout__`.
const EXPERIMENT_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,99}$/
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
    const id = c.req.param('experimentId')
    if (!EXPERIMENT_ID.test(id)) {
      return c.json(
        { error: 'invalid_experiment_id', details: 'experiment ids are letters, digits, "_", "-", ".", ":" (at most 100)' },
        400,
        NO_STORE,
      )
    }
    const db = c.env.DB
    if (db === undefined)
      return c.json(
        { error: 'measurement_disabled', details: 'no D1 database is bound as DB, so nothing is measured' },
        503,
        NO_STORE,
      )
    const correction = c.req.query('correction') ?? 'holm'
    if (correction !== 'holm' && correction !== 'bh')
      return c.json({ error: 'invalid_correction', details: 'correction is "holm" (default) or "bh"' }, 400, NO_STORE)
    const segment = c.req.query('segment') ?? '*'
    if (segment !== '*' && !EXPERIMENT_ID.test(segment))
      return c.json({ error: 'invalid_segment', details: 'segment is "*" (all visitors) or a segment id' }, 400, NO_STORE)
    const lookup = await getRuleset(c.env.RULES, { budgetMs: 1_000, waitUntil: backgroundRunner(c) })
    let body
    try {
      body = await experimentResults(db, lookup.ruleset, id, { correction, segment })
    } catch (err) {
      logError('measure_results_failed', err)
      return c.json(
        { error: 'results_unavailable', details: 'the measurement store could not be read; try again' },
        503,
        NO_STORE,
      )
    }
    if (body === undefined) {
      return c.json(
        { error: 'unknown_experiment', details: `no experiment "${id}" in the active ruleset and no exposures recorded for it` },
        404,
        NO_STORE,
      )
    }
    return c.json(body, 200, NO_STORE)
  })
  .get('/api/served', async function servedRoute(c) {
    const raw = c.req.query('days') ?? '30'
    const days = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN
    if (!(days >= 1 && days <= MAX_SERVED_DAYS)) {
      return c.json({ error: 'invalid_days', details: `days is a whole number from 1 to ${MAX_SERVED_DAYS}` }, 400, NO_STORE)
    }
    const db = c.env.DB
    if (db === undefined)
      return c.json(
        { error: 'measurement_disabled', details: 'no D1 database is bound as DB, so nothing is measured' },
        503,
        NO_STORE,
      )
    try {
      return c.json(await servedReport(db, days), 200, NO_STORE)
    } catch (err) {
      logError('measure_served_failed', err)
      return c.json(
        { error: 'results_unavailable', details: 'the measurement store could not be read; try again' },
        503,
        NO_STORE,
      )
    }
  })
