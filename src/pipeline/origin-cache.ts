import type { RequestLike } from '../http/request-view'
import { VENEER_COOKIES } from '../consent/cookies'
import type { Env } from '../env'
import { cookieNames } from '../http/cookies'
import { fetchOrigin, type OriginFetch } from './origin'

/**
 * `settings.originCacheTtl` (SPEC 8): the generic origin HTML kept at the edge with the Cache
 * API, keyed by URL alone (no cookies, no headers), so personalization is applied per request
 * on top of a shared copy. Only what the origin itself marks cacheable is stored: a 200
 * `text/html` with `public`, `max-age` or `s-maxage`, no `private`/`no-store`/`no-cache`, no
 * `Set-Cookie`, and no `Vary` beyond `Accept-Encoding`.
 */
export function isSharedCacheable(res: Response): boolean {
  if (res.status !== 200) return false
  if (!(res.headers.get('content-type') ?? '').toLowerCase().startsWith('text/html')) return false
  if (res.headers.has('set-cookie')) return false
  const vary = (res.headers.get('vary') ?? '')
    .toLowerCase()
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '' && v !== 'accept-encoding')
  if (vary.length > 0) return false
  const cc = (res.headers.get('cache-control') ?? '').toLowerCase()
  if (/\b(private|no-store|no-cache)\b/.test(cc)) return false
  // `s-maxage=0` (or `max-age=0` without an `s-maxage`) means stale at once: not worth a copy.
  if (/\bs-maxage=0+\b/.test(cc) || (!/\bs-maxage=/.test(cc) && /\bmax-age=0+\b/.test(cc))) return false
  return /\bpublic\b|\bs-maxage=[1-9]|\bmax-age=[1-9]/.test(cc)
}

const OWN_COOKIES = new Set<string>(VENEER_COOKIES)

/**
 * Whether a request may share the anonymous copy at all (RFC 9111 §3.5, stricter): not with
 * `Authorization`, and not with any cookie but Veneer's own, because the origin may answer
 * such a request for that user alone without saying so (no `Vary`, no `private`). Such a
 * request neither reads nor fills the cache; it goes to the origin as it is.
 */
export function isAnonymousRequest(request: Request): boolean {
  if (request.headers.has('authorization')) return false
  return cookieNames(request.headers.get('cookie')).every((n) => OWN_COOKIES.has(n))
}

function cacheKey(request: Request): Request {
  return new Request(request.url, { method: 'GET' })
}

export function fetchOriginCached(
  request: Request,
  env: Env,
  ttlSeconds: number,
  waitUntil: (p: Promise<unknown>) => void,
  fetcher?: OriginFetch,
  view?: Pick<RequestLike, 'url' | 'method'>,
): Promise<Response> {
  // Not an async function: the common page (no origin cache) returns the origin fetch's own
  // promise, one promise and its microtasks fewer per page view.
  if (
    ttlSeconds <= 0 ||
    request.method !== 'GET' ||
    request.headers.has('range') ||
    !isAnonymousRequest(request) ||
    typeof caches === 'undefined'
  ) {
    return fetchOrigin(request, env, fetcher, view)
  }
  return fetchThroughCache(request, env, ttlSeconds, waitUntil, fetcher)
}

async function fetchThroughCache(
  request: Request,
  env: Env,
  ttlSeconds: number,
  waitUntil: (p: Promise<unknown>) => void,
  fetcher?: OriginFetch,
): Promise<Response> {
  const cache = caches.default
  const key = cacheKey(request)
  try {
    const hit = await cache.match(key)
    if (hit !== undefined) return hit
  } catch {
    // A cache fault is a miss.
  }
  const res = await fetchOrigin(request, env, fetcher)
  if (isSharedCacheable(res)) {
    const copy = res.clone()
    const stored = new Response(copy.body, copy)
    stored.headers.set('cache-control', `public, max-age=${ttlSeconds}`)
    waitUntil(cache.put(key, stored).catch(() => undefined))
  }
  return res
}
