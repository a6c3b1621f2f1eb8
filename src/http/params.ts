import type { Context } from 'hono'
import type { Env } from '../env'
import { jsonError } from './errors'

/**
 * Experiment ids in request paths and queries: the ruleset's id rule (src/rules/schema.ts),
 * plus a leading `_` for the global holdout's `__holdout__`. One definition for every route.
 */
export const EXPERIMENT_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,99}$/

/** The `:experimentId` path parameter, or the 400 answer for one that is not an id. */
export function experimentIdParam(c: Context): string | Response {
  const id = c.req.param('experimentId') ?? ''
  if (EXPERIMENT_ID.test(id)) return id
  return jsonError(c, 400, 'invalid_experiment_id', 'experiment ids are letters, digits, "_", "-", ".", ":" (at most 100)')
}

/** The `DB` binding, or the 503 answer when nothing is measured. */
export function measurementDb(c: Context<{ Bindings: Env }>): D1Database | Response {
  return c.env.DB ?? jsonError(c, 503, 'measurement_disabled', 'no D1 database is bound as DB, so nothing is measured')
}
