import type { Env } from '../env'

/** Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']

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

/**
 * The request Veneer sends to the origin: same method, headers (less hop-by-hop and Veneer's own `x-veneer-qa`, `-override`, `-context`)
 * and body, with the URL rebased
 * onto `ORIGIN_URL` (path and query kept) and redirects left for the browser (`manual`).
 * Works on the request's URL as text (it is already in its parsed, serialised form): this runs
 * on every page view, and URL objects cost more than the slices.
 */
export function originRequest(request: Request, originUrl: string): Request {
  const url = request.url
  const schemeEnd = url.indexOf('://')
  let pathStart = url.indexOf('/', schemeEnd + 3)
  if (pathStart < 0) pathStart = url.length
  const hash = url.indexOf('#', pathStart)
  const rest = url.slice(pathStart, hash < 0 ? url.length : hash)
  const target = new Request(originBase(originUrl) + (rest === '' ? '/' : rest), {
    method: request.method,
    headers: request.headers, // copied inside the runtime
    body: request.method === 'GET' || request.method === 'HEAD' ? null : request.body,
    redirect: 'manual',
  })
  const headers = target.headers
  for (const h of HOP_BY_HOP) if (headers.has(h)) headers.delete(h)
  // Veneer's own request headers (the QA token, overrides, simulated context) are for Veneer:
  // the origin, its logs and its analytics never see them.
  for (const h of VENEER_REQUEST_HEADERS) if (headers.has(h)) headers.delete(h)
  // Workers' fetch decodes gzip and brotli itself; an exotic encoding would reach the rewriter
  // still compressed (PLATFORM-NOTES), so only ask for what the runtime understands.
  headers.set('accept-encoding', 'gzip, br')
  headers.set('x-forwarded-host', url.slice(schemeEnd + 3, pathStart))
  headers.set('x-forwarded-proto', url.slice(0, schemeEnd))
  return target
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

async function runtimeFetch(request: Request): Promise<Response> {
  const res = await fetch(request)
  runtimeDecoded.add(res)
  return res
}

/**
 * Fetches the page from the origin: `ORIGIN_URL` when set, else the bundled demo site (`ASSETS`).
 * An unreachable origin is a 502 from the origin side, never an exception.
 */
export async function fetchOrigin(request: Request, env: Env, fetcher: OriginFetch = runtimeFetch): Promise<Response> {
  try {
    if (env.ORIGIN_URL !== undefined && env.ORIGIN_URL !== '') return await fetcher(originRequest(request, env.ORIGIN_URL))
    if (env.ASSETS !== undefined) return await env.ASSETS.fetch(request)
    return new Response('Veneer has no origin: set ORIGIN_URL.\n', { status: 502, headers: { 'content-type': 'text/plain' } })
  } catch {
    return new Response('The origin could not be reached.\n', { status: 502, headers: { 'content-type': 'text/plain' } })
  }
}
