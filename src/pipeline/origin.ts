import type { Env } from '../env'

/** Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']

/**
 * The request Veneer sends to the origin: same method, headers (less hop-by-hop and `x-veneer-*`)
 * and body, with the URL rebased
 * onto `ORIGIN_URL` (path and query kept) and redirects left for the browser (`manual`).
 */
export function originRequest(request: Request, originUrl: string): Request {
  const incoming = new URL(request.url)
  const base = new URL(originUrl)
  const target = new URL(base.href)
  const basePath = base.pathname.replace(/\/$/, '')
  target.pathname = basePath + incoming.pathname
  target.search = incoming.search
  const headers = new Headers(request.headers)
  for (const h of HOP_BY_HOP) headers.delete(h)
  // Veneer's own request headers (the QA token, overrides, simulated context) are for Veneer:
  // the origin, its logs and its analytics never see them.
  for (const h of [...headers.keys()]) if (h.toLowerCase().startsWith('x-veneer-')) headers.delete(h)
  // Workers' fetch decodes gzip and brotli itself; an exotic encoding would reach the rewriter
  // still compressed (PLATFORM-NOTES), so only ask for what the runtime understands.
  headers.set('accept-encoding', 'gzip, br')
  headers.set('x-forwarded-host', incoming.host)
  headers.set('x-forwarded-proto', incoming.protocol.replace(':', ''))
  return new Request(target.href, {
    method: request.method,
    headers,
    body: request.method === 'GET' || request.method === 'HEAD' ? null : request.body,
    redirect: 'manual',
  })
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
