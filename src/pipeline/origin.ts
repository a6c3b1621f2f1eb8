import type { Env } from '../env'
import type { RequestLike } from '../http/request-view'
import { pathStartOf } from '../util/path'

/**
 * The hop-by-hop header (RFC 9110 7.6.1) the runtime's own `fetch` would forward: workerd drops
 * `Connection`, `Keep-Alive`, `TE`, `Trailer`, `Transfer-Encoding` and `Upgrade` itself (its HTTP
 * client writes its own), so only this one is deleted here; `Connection` itself only for an
 * injected origin fetcher, which is not the runtime's ({@link originRequest}). Headers that a
 * `Connection` header names are forwarded: honouring that list would let a client strip headers
 * the edge added for the origin (`CF-Connecting-IP`, `X-Forwarded-For`). test/node/wire.test.ts
 * checks on the wire what the origin receives.
 */
const PROXY_CONNECTION = 'proxy-connection'

/** The request headers Veneer reads itself (SPEC 6): never forwarded. */
const VENEER_REQUEST_HEADERS = ['x-veneer-qa', 'x-veneer-override', 'x-veneer-context']

/** `ORIGIN_URL` → its scheme, host and path prefix (no trailing slash): parsed once per isolate. */
const bases = new Map<string, string>()

function originBase(originUrl: string): string {
  let base = bases.get(originUrl)
  if (base === undefined) {
    const u = new URL(originUrl)
    base = `${u.protocol}//${u.host}${u.pathname.replace(/\/$/, '')}`
    if (bases.size < 16) bases.set(originUrl, base)
  }
  return base
}

/** What {@link originRequest} would construct, as the URL and init `fetch(url, init)` takes. */
interface OriginTarget {
  url: string
  init: RequestInit & { headers: Headers }
}

/**
 * The request Veneer sends to the origin: same method, headers (less hop-by-hop and Veneer's own
 * `x-veneer-qa`, `-override`, `-context`) and body, with the URL rebased onto `ORIGIN_URL` (path
 * and query kept) and redirects left for the browser (`manual`). Works on the request's URL as
 * text (it is already in its parsed, serialised form): this runs on every page view, and URL
 * objects cost more than the slices. Every call on a `Headers` crosses into the runtime (about
 * 1.5 µs each in workerd here, docs/performance.md), so the common request makes seven. `view`:
 * the same request's URL and method, already read (the page path's {@link RequestLike}).
 */
function originTarget(request: Request, originUrl: string, view: Pick<RequestLike, 'url' | 'method'> = request): OriginTarget {
  const url = view.url
  const method = view.method
  const schemeEnd = url.indexOf('://')
  const pathStart = pathStartOf(url)
  const hash = url.indexOf('#', pathStart)
  const rest = url.slice(pathStart, hash < 0 ? url.length : hash)
  const headers = new Headers(request.headers) // copied inside the runtime
  headers.delete(PROXY_CONNECTION)
  // Veneer's own request headers (the QA token, overrides, simulated context) are for Veneer:
  // the origin, its logs and its analytics never see them.
  for (const h of VENEER_REQUEST_HEADERS) headers.delete(h)
  // Workers' fetch decodes gzip and brotli itself; an exotic encoding would reach the rewriter
  // still compressed (PLATFORM-NOTES), so only ask for what the runtime understands.
  headers.set('accept-encoding', 'gzip, br')
  headers.set('x-forwarded-host', url.slice(schemeEnd + 3, pathStart))
  headers.set('x-forwarded-proto', url.slice(0, schemeEnd))
  return {
    url: originBase(originUrl) + (rest === '' ? '/' : rest),
    init: { method, headers, body: method === 'GET' || method === 'HEAD' ? null : request.body, redirect: 'manual' },
  }
}

/** {@link originTarget} as a `Request`, for an injected origin fetcher (tests, the editor). */
export function originRequest(request: Request, originUrl: string): Request {
  const { url, init } = originTarget(request, originUrl)
  init.headers.delete('connection')
  return new Request(url, init)
}

export type OriginFetch = (request: Request) => Promise<Response>

/**
 * Responses of the runtime's own `fetch`, whose bodies workerd has already decoded (gzip,
 * brotli) even though `Content-Encoding` is still set. The pipeline need not peek at these to
 * find out (`stillEncoded`), which saves a JavaScript hop per chunk on every compressed origin.
 */
const runtimeDecoded = new WeakSet<Response>()

export function isRuntimeDecoded(response: Response): boolean {
  return runtimeDecoded.has(response)
}

function markDecoded(res: Response): Response {
  runtimeDecoded.add(res)
  return res
}

/**
 * The runtime's `fetch` of an origin target. `fetch(url, init)` constructs its Request once;
 * `fetch(new Request(url, init))` would construct (and copy the headers of) a second one.
 */
function fetchTarget(target: OriginTarget): Promise<Response> {
  return fetch(target.url, target.init).then(markDecoded)
}

/**
 * Fetches the page from the origin: `ORIGIN_URL` when set, else the bundled demo site (`ASSETS`).
 * An unreachable origin is a 502 from the origin side, never an exception.
 */
export async function fetchOrigin(
  request: Request,
  env: Env,
  fetcher?: OriginFetch,
  view?: Pick<RequestLike, 'url' | 'method'>,
): Promise<Response> {
  try {
    if (env.ORIGIN_URL !== undefined && env.ORIGIN_URL !== '') {
      if (fetcher === undefined) return await fetchTarget(originTarget(request, env.ORIGIN_URL, view))
      return await fetcher(originRequest(request, env.ORIGIN_URL))
    }
    if (env.ASSETS !== undefined) return await env.ASSETS.fetch(request)
    return new Response('Veneer has no origin: set ORIGIN_URL.\n', { status: 502, headers: { 'content-type': 'text/plain' } })
  } catch {
    return new Response('The origin could not be reached.\n', { status: 502, headers: { 'content-type': 'text/plain' } })
  }
}
