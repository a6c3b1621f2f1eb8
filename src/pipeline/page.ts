import type { Env } from '../env'
import { requestView, type RequestLike } from '../http/request-view'
import { pathStartOf } from '../util/path'
import { getRuleset, type RulesetLookup } from '../rules/store'
import { logError } from '../util/log'
import { personalizeResponse } from './personalize'

/** Where Veneer's own endpoints live (SPEC 7). */
export const VENEER_PREFIX = '/__veneer'

/**
 * Whether a request is a page request Veneer may personalize, decided from the raw URL without
 * parsing it: GET, no `Range`, and not under {@link VENEER_PREFIX}. A first path segment holding
 * a `%` is not decided here (the router decodes it, and `/%5F_veneer` may be an endpoint).
 */
export function isPageRequest(request: RequestLike): boolean {
  if (request.method !== 'GET' || request.headers.has('range')) return false
  const url = request.url
  const start = pathStartOf(url)
  if (start === url.length) return true
  let end = start + 1
  while (end < url.length) {
    const c = url.charCodeAt(end)
    if (c === 0x2f || c === 0x3f || c === 0x23) break // '/', '?', '#'
    if (c === 0x25) return false // '%'
    end++
  }
  return !url.startsWith(VENEER_PREFIX, start)
}

/**
 * The ruleset lookup of a page request (bounded by the cold budget; never rejects), or
 * `undefined` when even starting it failed: the page then goes out as the origin sent it.
 */
function startLookup(
  env: Env | undefined,
  coldBudgetMs: number,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<RulesetLookup> | undefined {
  try {
    return getRuleset(env?.RULES, { budgetMs: coldBudgetMs, waitUntil })
  } catch (err) {
    logError('ruleset_lookup_failed', err)
    return undefined
  }
}

/**
 * One page request, start to end, without a router in between (issue 16: the page path's fixed
 * cost): the ruleset lookup starts, the origin is fetched at the same time, and its response is
 * personalized as it streams. `fetchPage` is the origin (a URL fetch or the embedder's handler).
 * `view`: the request read once ({@link requestView}), if the caller made it already.
 */
export async function servePage(
  request: Request,
  env: Env,
  waitUntil: (p: Promise<unknown>) => void,
  fetchPage: () => Response | Promise<Response>,
  options: { coldBudgetMs: number; now?: () => Date },
  view: RequestLike = requestView(request),
): Promise<Response> {
  const startedAt = performance.now()
  const lookup = startLookup(env, options.coldBudgetMs, waitUntil)
  const origin = await fetchPage()
  if (lookup === undefined) return origin
  return personalizeResponse({ request: view, env, origin, lookup, waitUntil, startedAt, at: options.now?.() })
}
