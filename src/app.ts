import { Hono } from 'hono'
import type { Env } from './env'
import { jsonError } from './http/errors'
import { personalize, type PersonalizeOptions } from './middleware/personalize'
import { adminDashboard } from './admin/dashboard/routes'
import type { OriginFetch } from './pipeline/origin'
import { fetchOriginCached } from './pipeline/origin-cache'
import { peekRuleset } from './rules/store'
import { adminApi } from './routes/admin-api'
import { client } from './routes/client'
import { decisions } from './routes/decisions'
import { events } from './routes/events'
import { health } from './routes/health'
import { preferences } from './routes/preferences'
import { qa } from './routes/qa'
import { results } from './routes/results'
import { backgroundRunner } from './util/background'

export interface AppOptions extends PersonalizeOptions {
  /** How the origin is fetched when ORIGIN_URL is set (default: global fetch). */
  fetchOrigin?: OriginFetch
}

/**
 * Veneer's own endpoints (SPEC 7), to mount at `/__veneer` in any Hono app:
 * `app.route('/__veneer', veneerEndpoints())`. Unknown paths under it are a JSON 404.
 */
export function veneerEndpoints(): Hono<{ Bindings: Env }> {
  const endpoints = new Hono<{ Bindings: Env }>()
  endpoints.route('/', health)
  endpoints.route('/', qa)
  endpoints.route('/', events)
  endpoints.route('/', client)
  endpoints.route('/', decisions)
  endpoints.route('/', preferences)
  // Results before the admin API router, whose own fallbacks (404/405) would answer first.
  endpoints.route('/', results)
  endpoints.route('/api', adminApi)
  endpoints.route('/admin', adminDashboard)
  endpoints.all('*', (c) => jsonError(c, 404, 'not_found', `no Veneer endpoint at ${c.req.path}`))
  return endpoints
}

/**
 * The Veneer Worker as a Hono app: Veneer's own endpoints under `/__veneer/`, then the
 * personalize middleware in front of the origin proxy.
 */
export function createApp(options: AppOptions = {}): Hono<{ Bindings: Env }> {
  const app = new Hono<{ Bindings: Env }>()
  app.route('/__veneer', veneerEndpoints())
  app.use('*', personalize(options))
  app.all('*', (c) => {
    // Edge caching of the generic HTML follows the ruleset in memory; a cold isolate does not wait.
    const ttl = peekRuleset(c.env.RULES)?.settings.originCacheTtl ?? 0
    return fetchOriginCached(c.req.raw, c.env, ttl, backgroundRunner(c), options.fetchOrigin)
  })
  app.onError((err, c) => {
    // Only Veneer's own endpoints reach here; the origin path fails open inside the middleware.
    console.error(JSON.stringify({ level: 'error', source: 'veneer', code: 'unhandled', kind: err.name }))
    return jsonError(c, 500, 'internal_error', 'Veneer could not answer this request')
  })
  return app
}
