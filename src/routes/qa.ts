import { Hono } from 'hono'
import type { Env } from '../env'
import { jsonError } from '../http/errors'
import { localPath } from '../http/origin'
import { MAX_COOKIE_PART, clearQaCookie, readQaCookie, setQaCookie, type QaCookie } from '../qa/cookie'
import { readActiveRuleset } from '../admin/active'
import { formChoices, newNonce, qaFormBody } from '../qa/form'
import { escapeHtml } from '../rewrite/template'
import { parseContext, parseOverrides } from '../qa/parse'
import { readQaToken } from '../qa/token'

const NO_STORE = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}code,input{font:14px ui-monospace,monospace}input{width:100%;box-sizing:border-box;padding:.3rem}label{display:block;margin-top:1rem}select{width:100%;padding:.3rem;font:inherit}fieldset{margin-top:1rem;border:1px solid #ccc;border-radius:6px}button{font:inherit;padding:.4rem 1rem}</style>
</head><body>${body}</body></html>`
}

/**
 * `GET /__veneer/qa?token=…[&override=…][&context=…][&to=/path]`: starts a QA session in this
 * browser by setting the `veneer_qa` cookie (HttpOnly, SameSite=Lax, Secure except on
 * localhost, Max-Age = the token's remaining life). `override` and `context` take the syntax
 * of the `x-veneer-override` / `x-veneer-context` headers and are kept in the cookie. Without
 * `token`, the token of an existing valid cookie is reused (to change overrides).
 * `?clear=1` ends the session. An invalid token: 401; none at all: 400.
 */
export const qa = new Hono<{ Bindings: Env }>().get('/qa', async (c) => {
  const requestUrl = c.req.url
  if (c.req.query('clear') !== undefined) {
    return c.html(
      page(
        'QA mode off',
        '<h1>QA mode is off</h1><p>The <code>veneer_qa</code> cookie was removed. <a href="/">Back to the site</a></p>',
      ),
      200,
      {
        ...NO_STORE,
        'set-cookie': clearQaCookie(requestUrl),
      },
    )
  }
  const existing = readQaCookie(c.req.header('cookie'))
  // Where to go after the cookie is set: a path of this site. Control characters are refused
  // before anything else; a target off this site is ignored (the QA page is shown instead).
  const toParam = c.req.query('to')
  const target = toParam === undefined || toParam === '' ? undefined : localPath(toParam.slice(0, 1000), requestUrl)
  if (target !== undefined && !target.ok && target.reason === 'control')
    return jsonError(c, 400, 'invalid_redirect', '`to` may not hold control characters (CR, LF, tab, …)', NO_STORE)
  const to = target?.ok === true ? target : undefined
  const token = c.req.query('token') ?? existing?.token
  if (token === undefined || token === '') {
    return jsonError(
      c,
      400,
      'missing_token',
      'pass ?token=<QA token>; mint one with `npx veneer qa-token --ttl 8h` or POST /__veneer/api/qa-token',
      NO_STORE,
    )
  }
  const chosen = formChoices(new URL(requestUrl).searchParams) // the form's selects, when it was submitted
  const override =
    c.req.query('override') ?? chosen?.override ?? (c.req.query('token') === undefined ? existing?.override : undefined)
  const context =
    c.req.query('context') ?? chosen?.context ?? (c.req.query('token') === undefined ? existing?.context : undefined)
  if ((override?.length ?? 0) > MAX_COOKIE_PART || (context?.length ?? 0) > MAX_COOKIE_PART) {
    return jsonError(c, 400, 'too_long', `override and context are limited to ${MAX_COOKIE_PART} characters each`, NO_STORE)
  }
  if (c.env?.QA_SECRET === undefined || c.env.QA_SECRET === '') {
    return jsonError(c, 401, 'qa_disabled', 'QA is disabled on this deployment: QA_SECRET is not set', NO_STORE)
  }
  const info = await readQaToken(c.env.QA_SECRET, token)
  const maxAge = info === undefined ? 0 : info.exp - Math.floor(Date.now() / 1000)
  if (info === undefined || maxAge <= 0) {
    return jsonError(
      c,
      401,
      'invalid_token',
      'the QA token is not valid: forged, expired, issued in the future, not of scope "qa", or signed with another QA_SECRET',
      NO_STORE,
    )
  }
  const session: QaCookie = { token, override: override || undefined, context: context || undefined }
  const headers = { ...NO_STORE, 'set-cookie': setQaCookie(session, maxAge, requestUrl) }
  if (to !== undefined) return c.body(null, 302, { ...headers, location: to.path })
  const o = parseOverrides(session.override)
  const x = parseContext(session.context)
  const active = c.env.RULES === undefined ? undefined : await readActiveRuleset(c.env.RULES)
  const nonce = newNonce()
  const body = qaFormBody({
    ruleset: active?.ok ? active.ruleset : undefined,
    overrides: o.entries,
    context: x.entries,
    ignored: [...o.ignored, ...x.ignored],
    expiresAt: info.exp,
    nonce,
  })
  return c.html(page('QA mode on', body), 200, {
    ...headers,
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  })
})
