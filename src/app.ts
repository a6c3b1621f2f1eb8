import { Hono } from 'hono'
import type { Env } from './env'
import { jsonError } from './http/errors'
import { personalize, type PersonalizeOptions } from './middleware/personalize'
import { adminDashboard } from './admin/dashboard/routes'
import { segmentsDashboard } from './admin/dashboard/segments-routes'
import { adminEditor } from './editor/routes'
import type { OriginFetch } from './pipeline/origin'
import { fetchOriginCached } from './pipeline/origin-cache'
import { peekRuleset } from './rules/store'
import { adminApi } from './routes/admin-api'
import { catalog } from './routes/catalog'
import { bandit } from './routes/bandit'
import { client } from './routes/client'
import { decisions } from './routes/decisions'
import { events } from './routes/events'
import { health } from './routes/health'
import { preferences } from './routes/preferences'
import { qa } from './routes/qa'
import { results } from './routes/results'
import { segmentsApi } from './routes/segments'
import { backgroundRunner, waitUntilOf } from './util/background'
import { logError } from './util/log'
import { isPageRequest, servePage } from './pipeline/page'
import { type RequestLike, requestView } from './http/request-view'

/** Serves the pages Veneer personalizes, as a Worker's `fetch` would (e.g. your Hono app's `fetch`). */
export type OriginHandler = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>

export interface AppOptions extends PersonalizeOptions {
  /**
   * Where pages come from: an origin URL (taking precedence over `ORIGIN_URL`), or a handler that
   * serves them itself. Default: `ORIGIN_URL`, else the `ASSETS` binding.
   */
  origin?: string | OriginHandler
  /** How the origin is fetched when it is a URL (default: global fetch). */
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
  endpoints.route('/', catalog)
  endpoints.route('/', bandit)
  endpoints.route('/', segmentsApi)
  endpoints.route('/api', adminApi)
  // The editor first: the dashboard's own headers (no scripts, no framing) must not apply to it.
  endpoints.route('/admin/editor', adminEditor)
  endpoints.route('/admin', segmentsDashboard)
  endpoints.route('/admin', adminDashboard)
  endpoints.all('*', (c) => jsonError(c, 404, 'not_found', `no Veneer endpoint at ${c.req.path}`))
  return endpoints
}

/** How pages are fetched: the embedder's handler, or the origin URL through the edge cache. */
function originServer(
  options: AppOptions,
): (
  request: Request,
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  ctx: ExecutionContext | undefined,
  view?: RequestLike,
) => Promise<Response> {
  const { origin } = options
  if (typeof origin === 'function') return async (request, env, _waitUntil, ctx) => origin(request, env, ctx as ExecutionContext)
  return (request, env, waitUntil, _ctx, view) => {
    // Edge caching of the generic HTML follows the ruleset in memory; a cold isolate does not wait.
    const ttl = peekRuleset(env.RULES)?.settings.originCacheTtl ?? 0
    const target = origin === undefined ? env : { ...env, ORIGIN_URL: origin }
    return fetchOriginCached(request, target, ttl, waitUntil, options.fetchOrigin, view)
  }
}

/**
 * The Veneer Worker as a Hono app: Veneer's own endpoints under `/__veneer/`, then the
 * personalize middleware in front of the origin proxy.
 */
export function createApp(options: AppOptions = {}): Hono<{ Bindings: Env }> {
  const app = new Hono<{ Bindings: Env }>()
  app.route('/__veneer', veneerEndpoints())
  app.use('*', personalize(options))
  const serveOrigin = originServer(options)
  app.all('*', (c) => serveOrigin(c.req.raw, c.env, backgroundRunner(c), c.executionCtx as ExecutionContext)) // Hono's type lags workers-types'
  // The page path skips the router (issue 16: its fixed cost per page): a GET for a page goes
  // straight to the same middleware logic and origin as the routes above would take it to.
  const coldBudgetMs = options.budgetMs ?? 50
  const routed = app.fetch
  app.fetch = (request, env, ctx) => {
    const view = requestView(request)
    if (!isPageRequest(view)) return routed(request, env, ctx)
    const runtime = ctx as ExecutionContext | undefined
    const waitUntil = waitUntilOf(runtime)
    return servePage(
      request,
      env ?? {},
      waitUntil,
      () => serveOrigin(request, env ?? {}, waitUntil, runtime, view),
      { coldBudgetMs, now: options.now },
      view,
    ).catch((err: unknown) => {
      // As `onError` below answers for a handler that throws (an embedder's origin function).
      logError('origin_failed', err)
      return Response.json(
        { error: 'internal_error', details: 'Veneer could not answer this request' },
        { status: 500, headers: { 'cache-control': 'no-store' } },
      )
    })
  }
  app.onError((err, c) => {
    // Only Veneer's own endpoints reach here; the origin path fails open inside the middleware.
    console.error(JSON.stringify({ level: 'error', source: 'veneer', code: 'unhandled', kind: err.name }))
    return jsonError(c, 500, 'internal_error', 'Veneer could not answer this request')
  })
  return app
}
