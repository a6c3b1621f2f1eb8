/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { Hono } from 'hono'
import { DOCTYPE } from '../admin/dashboard/layout'
import type { FC } from 'hono/jsx'
import {
  CONSENT_COOKIE,
  VENEER_COOKIES,
  VISITOR_COOKIE,
  checkFormToken,
  consentValue,
  formToken,
  type ConsentReading,
} from '../consent'
import { readBodyBytes } from '../http/body'
import { clearCookie, setCookie } from '../http/cookies'
import { isSameOrigin } from '../http/origin'
import { buildContext, contextualContext } from '../context/build'
import type { VisitorState } from '../context/types'
import { matchSegments } from '../decide/decide'
import type { Env } from '../env'
import { readIdentity } from '../identity/state'
import type { CompiledRuleset } from '../rules/compile'
import { Settings } from '../rules/schema'
import { getRuleset } from '../rules/store'
import { backgroundRunner } from '../util/background'

const DEFAULT_SETTINGS = Settings.parse({})

const PAGE_BUDGET_MS = 500
const MAX_FORM_BYTES = 2048
/** The page is one visitor's data: never cached, never framed, no script. */
const PAGE_HEADERS = {
  'cache-control': 'private, no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-robots-tag': 'noindex',
  'referrer-policy': 'same-origin',
}

const CSS = `body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}section{border:1px solid #ddd;border-radius:10px;padding:1rem 1.25rem;margin:1rem 0}
table{border-collapse:collapse}td,th{text-align:left;padding:.2rem .8rem .2rem 0;vertical-align:top}
.on{color:#17653a;font-weight:600}.off{color:#8a1c1c;font-weight:600}.note{color:#555;font-size:.9rem}
.msg{background:#e8f4ea;border-radius:8px;padding:.6rem 1rem}button{font:inherit;padding:.45rem 1rem;margin:.3rem .4rem .3rem 0;border-radius:8px;border:1px solid #888;background:#fff;cursor:pointer}
label{display:block;margin:.4rem 0}code{background:#f3f3f3;padding:0 .25rem;border-radius:4px}`

const SOURCE_TEXT: Record<ConsentReading['source'], string> = {
  cookie: 'your saved choice (the veneer_consent cookie)',
  gpc: 'the Global Privacy Control signal your browser sends (Sec-GPC: 1), which refuses both until you choose here',
  'opt-in': 'this site asks first where you are: nothing is on until you switch it on',
  'opt-out': 'this site’s default where you are: on until you switch it off',
}

interface View {
  consent: ConsentReading
  state: VisitorState
  segments: string[] | undefined
  usedClaims: Set<string>
  token: string
  message?: string
}

const OnOff: FC<{ on: boolean }> = ({ on }) => <span class={on ? 'on' : 'off'}>{on ? 'on' : 'off'}</span>

function show(v: unknown): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v))
  return s.length > 200 ? `${s.slice(0, 200)}…` : s
}

const Known: FC<{ view: View }> = ({ view }) => {
  const { state, segments } = view
  if (!state.consent.personalization) {
    return (
      <section id="known">
        <h2>What Veneer knows about you</h2>
        <p>
          Nothing personal: without personalization consent Veneer keeps no visitor cookie, counts nothing and ignores any profile
          token. It may still adapt pages to the request itself (country, device, local time) without remembering anything.
        </p>
        <p>
          Segments you are in now:{' '}
          <span id="segments">
            {segments === undefined ? 'none (you get the generic page)' : segments.length === 0 ? 'none' : segments.join(', ')}
          </span>
        </p>
      </section>
    )
  }
  const b = state.behavior
  const claims = Object.entries(state.profile ?? {})
  return (
    <section id="known">
      <h2>What Veneer knows about you</h2>
      <p>
        Segments you are in now:{' '}
        <span id="segments">{segments === undefined || segments.length === 0 ? 'none' : segments.join(', ')}</span>
      </p>
      {state.visitor !== undefined && (
        <p>
          A random visitor id (never shown on pages), first seen {state.visitor.firstSeen}, visit number {state.visitor.sessions}
          {state.visitor.isNew ? ' (no visitor cookie yet: one is set on your next page view)' : ''}.
        </p>
      )}
      {b !== undefined && (
        <table id="behavior">
          <tbody>
            <tr>
              <th>Page views</th>
              <td>{b.pageViews}</td>
            </tr>
            {Object.entries(b.views).map(([cat, n]) => (
              <tr>
                <th>Views of {cat} pages</th>
                <td>{n}</td>
              </tr>
            ))}
            <tr>
              <th>Cart adds</th>
              <td>{b.cartAdds}</td>
            </tr>
            <tr>
              <th>Purchases</th>
              <td>{b.purchases}</td>
            </tr>
            <tr>
              <th>Last event</th>
              <td>{b.lastEvent ?? '—'}</td>
            </tr>
          </tbody>
        </table>
      )}
      <h3>Profile claims from this site</h3>
      {claims.length === 0 ? (
        <p id="profile">None: there is no valid profile token from this site.</p>
      ) : (
        <table id="profile">
          <tbody>
            {claims.map(([k, v]) => (
              <tr>
                <th>{k}</th>
                <td>{show(v)}</td>
                <td class="note">{view.usedClaims.has(k) ? 'used by the rules' : 'not used'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

const Page: FC<{ view: View }> = ({ view }) => {
  const c = view.consent
  return (
    <>
      {DOCTYPE}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>Privacy &amp; personalization preferences</title>
          <style>{CSS}</style>
        </head>
        <body>
          <h1>Privacy &amp; personalization preferences</h1>
          {view.message !== undefined && (
            <p class="msg" role="status">
              {view.message}
            </p>
          )}
          <section id="consent">
            <h2>Your consent</h2>
            <p>
              Personalization: <OnOff on={c.personalization} /> · Analytics: <OnOff on={c.analytics} />
            </p>
            <p class="note">Set by {SOURCE_TEXT[c.source]}.</p>
            <form method="post" action="/__veneer/preferences">
              <input type="hidden" name="token" value={view.token} />
              <label>
                <input type="checkbox" name="personalization" value="on" checked={c.personalization} /> Personalization: adapt
                pages to what I browse, to my profile with this site, and include me in experiments
              </label>
              <label>
                <input type="checkbox" name="analytics" value="on" checked={c.analytics} /> Analytics: count which variants I saw
                and what I bought, to measure them
              </label>
              <button type="submit" name="action" value="save">
                Save my choices
              </button>
              <button type="submit" name="action" value="accept-all">
                Allow both
              </button>
              <button type="submit" name="action" value="refuse-all">
                Refuse both
              </button>
            </form>
          </section>
          <Known view={view} />
          <section id="forget">
            <h2>Forget me</h2>
            <p>
              Clears every Veneer cookie in this browser: your choices, your visitor id and counters, and the profile token.
              Veneer keeps no other copy of them; measurement records (only with analytics consent) hold a one-way keyed hash of
              the visitor id, which nothing links back to you once the id is gone.
            </p>
            <form method="post" action="/__veneer/preferences">
              <input type="hidden" name="token" value={view.token} />
              <button type="submit" name="action" value="forget">
                Forget me
              </button>
            </form>
          </section>
          <p>
            <a href="/">Back to the site</a>
          </p>
        </body>
      </html>
    </>
  )
}

/** Profile claims the ruleset's conditions mention (`profile.<claim>`). */
function claimsUsed(ruleset: CompiledRuleset | undefined): Set<string> {
  const used = new Set<string>()
  if (ruleset === undefined) return used
  const text = JSON.stringify([ruleset.doc.segments, ruleset.doc.placements])
  for (const m of text.matchAll(/"profile\.([^".]+)/g)) if (m[1] !== undefined) used.add(m[1])
  return used
}

const MESSAGES: Record<string, string> = {
  saved: 'Your choices are saved.',
  forgotten: 'Done: Veneer’s cookies are cleared from this browser.',
}

/**
 * The preference center (SPEC 7): `GET` shows consent, the segments the visitor is in now, the
 * behavior counters and the profile claims Veneer uses; `POST` grants or withdraws
 * personalization and analytics, or forgets the visitor. Works without JavaScript; posts are
 * CSRF-checked (see consent/csrf.ts); answers are `private, no-store`.
 */
export const preferences = new Hono<{ Bindings: Env }>()
  .get('/preferences', async (c) => {
    const request = c.req.raw
    const waitUntil = backgroundRunner(c)
    const { ruleset } = await getRuleset(c.env.RULES, { budgetMs: PAGE_BUDGET_MS, waitUntil })
    const now = new Date()
    const contextual = contextualContext(request, now)
    // Without a ruleset (none published, KV slow) the defaults of the settings apply.
    const settings = ruleset?.settings ?? DEFAULT_SETTINGS
    const identity = await readIdentity(request.headers, c.env, settings, contextual.geo.country, now)
    const { consent, state } = identity
    let segments: string[] | undefined
    if (ruleset !== undefined && (state.consent.personalization || ruleset.settings.contextualWithoutConsent)) {
      segments = [...matchSegments(ruleset, buildContext(contextual, state))]
    }
    const messageKey = c.req.query('done')
    const view: View = {
      consent,
      state,
      segments,
      usedClaims: claimsUsed(ruleset),
      token: await formToken(c.env.VISITOR_SECRET, Math.floor(now.getTime() / 1000)),
      message: messageKey === undefined ? undefined : MESSAGES[messageKey],
    }
    return c.html(<Page view={view} />, 200, PAGE_HEADERS)
  })
  .post('/preferences', async (c) => {
    const request = c.req.raw
    const refuse = (why: string, status: 403 | 413 = 403) =>
      c.html(
        <>
          {DOCTYPE}
          <html lang="en">
            <head>
              <meta charset="utf-8" />
              <title>Not saved</title>
            </head>
            <body>
              <h1>Your choice was not saved</h1>
              <p>{why}</p>
              <p>
                <a href="/__veneer/preferences">Back to the preferences</a>
              </p>
            </body>
          </html>
        </>,
        status,
        PAGE_HEADERS,
      )
    if (!isSameOrigin(request)) return refuse('This form can only be sent from this site’s own preference page.')
    const ct = request.headers.get('content-type') ?? ''
    if (!ct.startsWith('application/x-www-form-urlencoded') && !ct.startsWith('multipart/form-data'))
      return refuse('The form could not be read.')
    // Counted on the bytes read: a chunked body has no Content-Length to trust.
    const body = await readBodyBytes(request, MAX_FORM_BYTES)
    if (!body.ok) return refuse('The form was too large.', 413)
    let form: Record<string, unknown>
    try {
      const data = await new Request(request.url, {
        method: 'POST',
        headers: { 'content-type': ct },
        body: body.bytes,
      }).formData()
      form = {}
      for (const [k, v] of data) if (!(k in form)) form[k] = v
    } catch {
      return refuse('The form could not be read.')
    }
    const nowSec = Math.floor(Date.now() / 1000)
    if (!(await checkFormToken(c.env.VISITOR_SECRET, form.token, nowSec)))
      return refuse('The page was open too long; reload it and try again.')

    const url = request.url
    const headers = new Headers({ ...PAGE_HEADERS, location: '/__veneer/preferences?done=saved' })
    const action = form.action
    if (action === 'forget') {
      for (const name of VENEER_COOKIES)
        headers.append('set-cookie', clearCookie(name, { requestUrl: url, httpOnly: name !== CONSENT_COOKIE }))
      headers.set('location', '/__veneer/preferences?done=forgotten')
      return new Response(null, { status: 303, headers })
    }
    let granted: { personalization: boolean; analytics: boolean }
    if (action === 'accept-all') granted = { personalization: true, analytics: true }
    else if (action === 'refuse-all') granted = { personalization: false, analytics: false }
    else if (action === 'save' || action === undefined)
      granted = { personalization: form.personalization === 'on', analytics: form.analytics === 'on' }
    else return refuse('Unknown action.')

    const { ruleset } = await getRuleset(c.env.RULES, { budgetMs: PAGE_BUDGET_MS, waitUntil: (p) => p.catch(() => undefined) })
    const days = ruleset?.settings.consentMaxAgeDays ?? 180
    // Not HttpOnly: the site's own consent banner (CMP) may read and rewrite this choice.
    headers.append(
      'set-cookie',
      setCookie(CONSENT_COOKIE, consentValue(granted), { maxAgeSeconds: days * 86_400, requestUrl: url, httpOnly: false }),
    )
    if (!granted.personalization) headers.append('set-cookie', clearCookie(VISITOR_COOKIE, { requestUrl: url }))
    return new Response(null, { status: 303, headers })
  })
