import { qaSecret } from '../qa/overrides'
import type { Env } from '../env'
import { fetchOrigin, type OriginFetch } from '../pipeline/origin'
import { personalizeResponse } from '../pipeline/personalize'
import { mintQaToken } from '../qa/token'
import type { CompiledRuleset } from '../rules/compile'
import { escapeHtml } from '../rewrite/template'
import { pickerScript } from './picker'
import type { PreviewVisitor } from './visitor'
import { visitorContext } from './visitor'

/**
 * Headers of the framed page: the only Veneer response that may be framed, and only by its own
 * origin (the editor). Scripts run only with this response's nonce, so the site's own scripts do
 * not run in the editor (nothing is tracked, nothing fights the picker); styles and images load.
 */
export function frameHeaders(nonce: string): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'self'",
      `script-src 'nonce-${nonce}'`,
      "style-src 'self' 'unsafe-inline' https:",
      "img-src 'self' data: https:",
      "font-src 'self' data: https:",
      "connect-src 'none'",
      "object-src 'none'",
      "form-action 'none'",
      "base-uri 'self'",
      "frame-ancestors 'self'",
    ].join('; '),
    'x-frame-options': 'SAMEORIGIN',
    'cache-control': 'no-store',
    'referrer-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
  }
}

/** A short page for the frame when there is nothing to pick from. */
function notice(message: string, nonce: string, status: number): Response {
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Veneer editor</title></head><body style="font:15px system-ui,sans-serif;padding:1rem"><p>${escapeHtml(message)}</p></body></html>`,
    { status, headers: { ...frameHeaders(nonce), 'content-type': 'text/html; charset=utf-8' } },
  )
}

export interface FrameInput {
  request: Request
  env: Env
  path: string
  visitor: PreviewVisitor
  ruleset: CompiledRuleset
  nonce: string
  waitUntil: (p: Promise<unknown>) => void
  /** How the origin is fetched when ORIGIN_URL is set (default: the runtime's fetch). */
  fetcher?: OriginFetch
}

/**
 * The page at `path` as Veneer serves it to the simulated visitor, through the real pipeline with
 * `ruleset` (the draft or the active one), plus the picker. The visitor is simulated with the QA
 * mechanism itself: a QA token minted for this one request and `x-veneer-context`. The admin's own
 * cookies are not sent, and no cookie is set: the preview is neither a visitor nor an exposure.
 */
export async function framedPage(f: FrameInput): Promise<Response> {
  const own = new URL(f.request.url)
  const url = new URL(f.path, own.origin)
  const base = new Headers({ accept: 'text/html', 'accept-encoding': 'identity' })
  for (const h of ['user-agent', 'accept-language', 'sec-ch-ua-mobile', 'sec-ch-ua-platform']) {
    const v = f.request.headers.get(h)
    if (v !== null) base.set(h, v)
  }
  const secret = qaSecret(f.env)
  // Without a QA token the preview would be an ordinary page view: counted, bucketed, recorded.
  if (secret === undefined)
    return notice('The editor previews pages in QA mode, which needs QA_SECRET: set it on this Worker.', f.nonce, 503)
  const context = visitorContext(f.visitor)
  const qaHeaders = new Headers(base)
  qaHeaders.set('x-veneer-qa', await mintQaToken(secret, 60, 'editor-preview'))
  qaHeaders.set('x-veneer-context', [...context].map(([k, v]) => `${k}=${v}`).join('; '))
  const origin = await fetchOrigin(new Request(url, { headers: base }), f.env, f.fetcher)
  const res = await personalizeResponse({
    request: new Request(url, { headers: qaHeaders }),
    env: f.env,
    origin,
    lookup: Promise.resolve({ ruleset: f.ruleset, source: 'memory', waitedMs: 0 }),
    waitUntil: f.waitUntil,
    startedAt: performance.now(),
  })
  const type = res.headers.get('content-type') ?? ''
  if (res.status !== 200 || !/^text\/html/i.test(type) || res.body === null) {
    await res.body?.cancel()
    return notice(
      `The origin answered ${res.status} ${type === '' ? '' : `(${type.split(';')[0]})`} for ${f.path}: there is no page to edit here.`,
      f.nonce,
      200,
    )
  }
  const placements = f.ruleset.placements
    .filter((p) => p.matchesPath(url.pathname))
    .map((p) => ({ id: p.id, selector: p.selector }))
  const script = `<script nonce="${f.nonce}">${pickerScript({ placements, context: Object.fromEntries(context) })}</script>`
  let injected = false
  const rewriter = new HTMLRewriter()
    .on('meta[http-equiv]', {
      element(el) {
        // A page's own CSP in a meta tag would block the picker; the response header replaces it.
        if (/content-security-policy/i.test(el.getAttribute('http-equiv') ?? '')) el.remove()
      },
    })
    .on('body', {
      element(el) {
        if (injected) return
        injected = true
        el.append(script, { html: true })
      },
    })
    .onDocument({
      end(end) {
        if (!injected) end.append(script, { html: true })
      },
    })
  const headers = new Headers({ ...frameHeaders(f.nonce), 'content-type': type })
  const state = res.headers.get('x-veneer')
  if (state !== null) headers.set('x-veneer', state)
  const trace = res.headers.get('x-veneer-trace')
  if (trace !== null) headers.set('x-veneer-trace', trace)
  return rewriter.transform(new Response(res.body, { status: 200, headers }))
}
