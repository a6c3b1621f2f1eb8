import type { MiddlewareHandler } from 'hono'
import type { Env } from '../env'
import { servePage } from '../pipeline/page'
import { backgroundRunner } from '../util/background'

export interface PersonalizeOptions {
  /**
   * Bound on the first (cold) ruleset lookup of an isolate, in ms, before the ruleset's own
   * `settings.budgetMs` is known. Default 50.
   */
  budgetMs?: number
  /** Where Veneer's own endpoints live; requests under it are left to other routes. */
  prefix?: string
  /** The request time used for local-time attributes (tests). */
  now?: () => Date
}

type VeneerEnv = { Bindings: Env }

/**
 * Veneer as Hono middleware: `app.use('*', personalize())`. The downstream handlers are the
 * origin; the ruleset lookup runs in parallel with them, and their HTML response is
 * personalized as it streams. Any fault leaves their response as it was.
 *
 * @example
 * const app = new Hono<{ Bindings: Env }>()
 * app.use('*', personalize())
 * app.get('/', (c) => c.html(homePage)) // your own pages (examples/hono-embed)
 * // Never `fetch(c.req.raw)` here: on the Worker's own route it fetches this same Worker, forever.
 */
export function personalize(options: PersonalizeOptions = {}): MiddlewareHandler<VeneerEnv> {
  const { budgetMs: coldBudgetMs = 50, prefix = '/__veneer/', now } = options
  if (!Number.isFinite(coldBudgetMs) || coldBudgetMs <= 0) throw new TypeError('personalize: budgetMs must be a positive number')
  return async function veneerPersonalize(c, next) {
    const request = c.req.raw
    if (c.req.path.startsWith(prefix) || request.method !== 'GET' || request.headers.has('range')) return next()
    // The downstream handlers are the origin: the same page path as a whole Worker's (servePage).
    const fetchPage = async () => {
      await next()
      return c.res
    }
    const out = await servePage(request, c.env ?? {}, backgroundRunner(c), fetchPage, { coldBudgetMs, now })
    if (out !== c.res) {
      // Hono merges the old response's headers into a new one on assignment; clear it first.
      c.res = undefined
      c.res = out
    }
  }
}
