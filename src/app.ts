import { Hono } from 'hono'
import type { Env } from './env'
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
 * The Veneer Worker as a Hono app: Veneer's own endpoints under `/__veneer/`, then the
 * personalize middleware in front of the origin proxy.
 */
export function createApp(options: AppOptions = {}): Hono<{ Bindings: Env }> {
  const app = new Hono<{ Bindings: Env }>()
  app.route('/__veneer', health)
  app.route('/__veneer', qa)
  app.route('/__veneer', events)
  app.route('/__veneer', client)
  app.route('/__veneer', decisions)
  app.route('/__veneer', preferences)
  // Results before the admin API router, whose own fallbacks (404/405) would answer first.
  app.route('/__veneer', results)
  app.route('/__veneer/api', adminApi)
  app.route('/__veneer/admin', adminDashboard)
  app.all('/__veneer/*', (c) => c.json({ error: 'not_found', details: `no Veneer endpoint at ${c.req.path}` }, 404))
  app.use('*', personalize(options))
  app.all('*', (c) => {
    // Edge caching of the generic HTML follows the ruleset in memory; a cold isolate does not wait.
    const ttl = peekRuleset(c.env.RULES)?.settings.originCacheTtl ?? 0
    return fetchOriginCached(c.req.raw, c.env, ttl, backgroundRunner(c), options.fetchOrigin)
  })
  app.onError((err, c) => {
    // Only Veneer's own endpoints reach here; the origin path fails open inside the middleware.
    console.error(JSON.stringify({ level: 'error', source: 'veneer', code: 'unhandled', kind: err.name }))
    return c.json({ error: 'internal_error', details: 'Veneer could not answer this request' }, 500)
  })
  return app
}
