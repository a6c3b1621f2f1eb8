import { Hono } from 'hono'
import type { Env } from './env'
import { personalize, type PersonalizeOptions } from './middleware/personalize'
import { fetchOrigin, type OriginFetch } from './pipeline/origin'
import { adminDashboard } from './admin/dashboard/routes'
import { adminApi } from './routes/admin-api'
import { health } from './routes/health'

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
  app.route('/__veneer/api', adminApi)
  app.route('/__veneer/admin', adminDashboard)
  app.all('/__veneer/*', (c) => c.json({ error: 'not_found', details: `no Veneer endpoint at ${c.req.path}` }, 404))
  app.use('*', personalize(options))
  app.all('*', (c) => fetchOrigin(c.req.raw, c.env, options.fetchOrigin))
  app.onError((err, c) => {
    // Only Veneer's own endpoints reach here; the origin path fails open inside the middleware.
    console.error(JSON.stringify({ level: 'error', source: 'veneer', code: 'unhandled', kind: err.name }))
    return c.json({ error: 'internal_error', details: 'Veneer could not answer this request' }, 500)
  })
  return app
}
