/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import type { Env } from '../../env'
import { limitBody } from '../../http/body'
import { readCookie } from '../../http/cookies'
import { isSameOrigin } from '../../http/origin'
import { compileRulesetText, htmlRewriterSelectorCheck } from '../../rules/compile'
import { forgetRuleset } from '../../rules/store'
import { readActiveRuleset } from '../active'
import { timingSafeEqualStrings } from '../auth'
import { explain } from '../explain'
import { COUNTRY_TZ } from '../country-timezones'
import { MAX_RULESET_BYTES } from '../http'
import { loadResults, type ResultsLookup } from '../results-source'
import { clearSessionCookie, createSession, readSession, SESSION_COOKIE, sessionCookie, type Session } from '../session'
import { clientKey, lockedFor, recordFailure } from '../throttle'
import { validateText } from '../validate'
import { kvStore, listVersions, publishFromWorker, rollbackTo, versionKey } from '../versions'
import { LoginPage, MessagePage } from './layout'
import { DashboardPage, type DashboardProps } from './page'
import { EMPTY_PREVIEW, type PreviewForm } from './preview'

type DashEnv = { Bindings: Env }
type Ctx = Context<DashEnv>

const HOME = '/__veneer/admin'
// A 1 MB ruleset grows when form-encoded; the field itself is checked against 1 MB below.
const MAX_FORM_BYTES = 3 * MAX_RULESET_BYTES + 64 * 1024

const SECURITY_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  // No script runs on these pages; styles are one inline block.
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
}

/** The dashboard session of this request, if its cookie is valid. */
export async function sessionOf(c: Ctx): Promise<Session | undefined> {
  return readSession(c.env.ADMIN_TOKEN ?? '', readCookie(c.req.header('cookie'), SESSION_COOKIE))
}

export function field(form: Record<string, unknown>, name: string, max = 1000): string {
  const v = form[name]
  return typeof v === 'string' ? v.slice(0, max) : ''
}

/** Loads what every dashboard render shows, then renders it with `extra` on top. */
export async function render(
  c: Ctx,
  session: Session,
  extra: Partial<DashboardProps> = {},
  status: 200 | 400 | 413 | 422 = 200,
): Promise<Response> {
  const kv = c.env.RULES
  if (kv === undefined)
    return c.html(
      <MessagePage title="Veneer admin" message="The RULES KV namespace is not bound: there is nothing to manage." />,
      503,
    )
  const store = kvStore(kv)
  const [active, history] = await Promise.all([readActiveRuleset(kv), listVersions(store)])
  const results = new Map<string, ResultsLookup>()
  if (active.ok) {
    const ids = active.ruleset.placements.flatMap((p) =>
      p.rules.flatMap((r) => (r.experiment === undefined ? [] : [r.experiment.id])),
    )
    await Promise.all(ids.map(async (id) => results.set(id, await loadResults(c.env, id))))
  }
  return c.html(<DashboardPage csrf={session.csrf} active={active} history={history} results={results} {...extra} />, status)
}

/**
 * Guards a form POST: same origin, a valid session, and the session's CSRF token in the form.
 * Returns the session and the parsed form, or the response to send instead.
 */
export async function guardPost(c: Ctx): Promise<{ session: Session; form: Record<string, unknown> } | Response> {
  if (!isSameOrigin(c.req.raw))
    return c.html(
      <MessagePage title="Refused" message="This form must be sent from the dashboard itself (cross-site request refused)." />,
      403,
    )
  const session = await sessionOf(c)
  if (session === undefined) return c.html(<LoginPage error="Your session has ended. Log in again." />, 401)
  const form = (await c.req.parseBody()) as Record<string, unknown>
  if (!(await timingSafeEqualStrings(field(form, 'csrf', 100), session.csrf))) {
    return c.html(
      <MessagePage
        title="Refused"
        message="The form's security token does not match your session. Reload the dashboard and try again."
      />,
      403,
    )
  }
  return { session, form }
}

function previewInput(f: PreviewForm): { input: Record<string, unknown> } | { error: string } {
  const input: Record<string, unknown> = { path: f.path.trim() === '' ? '/' : f.path.trim() }
  const geo: Record<string, unknown> = {}
  if (f.country.trim() !== '') {
    if (!/^[A-Za-z]{2}$/.test(f.country.trim())) return { error: 'Country is a two-letter code, e.g. DE.' }
    geo.country = f.country.trim().toUpperCase()
    const tz = COUNTRY_TZ[geo.country as string]
    if (tz !== undefined) geo.timezone = tz
  }
  if (f.city.trim() !== '') geo.city = f.city.trim()
  if (Object.keys(geo).length > 0) input.geo = geo
  if (['mobile', 'tablet', 'desktop', 'bot'].includes(f.device)) input.device = { type: f.device }
  if (f.hour.trim() !== '') {
    const h = Number(f.hour)
    if (!Number.isInteger(h) || h < 0 || h > 23) return { error: 'Hour is a whole number from 0 to 23.' }
    input.time = { hour: h }
  }
  if (f.utm.trim() !== '') input.request = { utm: { source: f.utm.trim() } }
  if (f.profile.trim() !== '') {
    let profile: unknown
    try {
      profile = JSON.parse(f.profile)
    } catch {
      return { error: 'Profile claims must be a JSON object, e.g. {"tier":"gold"}.' }
    }
    if (typeof profile !== 'object' || profile === null || Array.isArray(profile))
      return { error: 'Profile claims must be a JSON object, e.g. {"tier":"gold"}.' }
    input.profile = profile
  }
  return { input }
}

/** The dashboard (SPEC 7 `GET admin`), mounted at `/__veneer/admin`. */
export const adminDashboard = new Hono<DashEnv>()

/** Security headers, and "off" without ADMIN_TOKEN: every dashboard page (also admin/segments). */
export const dashboardGuard: MiddlewareHandler<DashEnv> = async (c, next) => {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v)
  if (c.env.ADMIN_TOKEN === undefined || c.env.ADMIN_TOKEN === '') {
    return c.html(
      <MessagePage
        title="Veneer admin is off"
        message="ADMIN_TOKEN is not set on this Worker, so the dashboard and the admin API are disabled."
      />,
      503,
    )
  }
  await next()
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v)
}
adminDashboard.use('*', dashboardGuard)

adminDashboard.get('/', async (c) => {
  const session = await sessionOf(c)
  if (session === undefined) return c.html(<LoginPage />)
  const done = c.req.query('done') ?? ''
  const m = /^(published|rolledback):([\w.:-]{1,100})$/.exec(done)
  const flash =
    m === null
      ? undefined
      : {
          kind: 'ok' as const,
          text:
            m[1] === 'published'
              ? `Published ${m[2]}. This Worker serves it now; other locations within about a minute.`
              : `Rolled back to ${m[2]}.`,
        }
  return render(c, session, { flash })
})

adminDashboard.post(
  '/login',
  limitBody(8 * 1024, (c) => c.html(<LoginPage error="That request was too large." />, 413)),
  async (c) => {
    if (!isSameOrigin(c.req.raw))
      return c.html(
        <MessagePage title="Refused" message="Log in from the dashboard's own page (cross-site request refused)." />,
        403,
      )
    const client = clientKey(c.req.raw)
    const wait = lockedFor(client)
    if (wait > 0)
      return c.html(<LoginPage error="Too many wrong tokens from here. Wait a few minutes and try again." />, 429, {
        'retry-after': String(wait),
      })
    const form = (await c.req.parseBody()) as Record<string, unknown>
    const token = field(form, 'token', 4096)
    if (!(await timingSafeEqualStrings(token, c.env.ADMIN_TOKEN ?? ''))) {
      recordFailure(client)
      console.warn(JSON.stringify({ level: 'warn', source: 'veneer', code: 'admin_login_failed' }))
      return c.html(<LoginPage error="That is not the admin token." />, 401)
    }
    const { value } = await createSession(c.env.ADMIN_TOKEN ?? '')
    return c.body(null, 303, { location: HOME, 'set-cookie': sessionCookie(value, new URL(c.req.url)) })
  },
)

adminDashboard.post(
  '/logout',
  limitBody(8 * 1024, (c) => c.text('too large', 413)),
  async (c) => {
    const guard = await guardPost(c)
    if (guard instanceof Response) return guard
    return c.body(null, 303, { location: HOME, 'set-cookie': clearSessionCookie(new URL(c.req.url)) })
  },
)

adminDashboard.post(
  '/preview',
  limitBody(64 * 1024, (c) => c.text('too large', 413)),
  async (c) => {
    const guard = await guardPost(c)
    if (guard instanceof Response) return guard
    const { session, form } = guard
    const pf: PreviewForm = { ...EMPTY_PREVIEW }
    for (const k of Object.keys(pf) as (keyof PreviewForm)[]) pf[k] = field(form, k, k === 'profile' ? 8000 : 500)
    const parsed = previewInput(pf)
    if ('error' in parsed) return render(c, session, { preview: { form: pf, error: parsed.error } }, 400)
    const kv = c.env.RULES
    const active = kv === undefined ? undefined : await readActiveRuleset(kv)
    if (active === undefined || !active.ok)
      return render(c, session, { preview: { form: pf, error: 'There is no valid active ruleset to explain.' } })
    const trace = await explain(active.ruleset, parsed.input, c.env, { base: new URL(c.req.url).origin })
    return render(c, session, { preview: { form: pf, trace } })
  },
)

adminDashboard.post(
  '/publish',
  limitBody(MAX_FORM_BYTES, (c) => c.text('The ruleset is larger than 1 MB.', 413)),
  async (c) => {
    const guard = await guardPost(c)
    if (guard instanceof Response) return guard
    const { session, form } = guard
    const text = typeof form.ruleset === 'string' ? form.ruleset : ''
    if (new TextEncoder().encode(text).length > MAX_RULESET_BYTES) {
      return render(
        c,
        session,
        {
          draft: '',
          validation: { ok: false, issues: [{ path: '', message: 'the ruleset is larger than 1 MB' }], warnings: [] },
        },
        413,
      )
    }
    const v = validateText(text)
    if (!v.ok) {
      // Too deep to validate is a bad request (400), like the admin API answers it.
      const status = v.kind === 'too_deep' ? 400 : 422
      // A document too deep to validate is not echoed back either: the editor would choke on it.
      const draft = v.kind === 'too_deep' ? '' : text
      return render(c, session, { draft, validation: { ok: false, issues: v.issues, warnings: v.warnings } }, status)
    }
    if (field(form, 'action') !== 'publish')
      return render(c, session, { draft: text, validation: { ok: true, issues: [], warnings: v.warnings } })
    const kv = c.env.RULES
    if (kv === undefined) return c.html(<MessagePage title="Veneer admin" message="The RULES KV namespace is not bound." />, 503)
    const out = await publishFromWorker(kv, v.doc, field(form, 'note', 200) || 'dashboard')
    if ('tooLarge' in out)
      return render(
        c,
        session,
        { draft: text, validation: { ok: false, issues: [{ path: '', message: out.tooLarge }], warnings: [] } },
        413,
      )
    return c.body(null, 303, { location: `${HOME}?done=published:${encodeURIComponent(out.version)}` })
  },
)

adminDashboard.post(
  '/rollback',
  limitBody(8 * 1024, (c) => c.text('too large', 413)),
  async (c) => {
    const guard = await guardPost(c)
    if (guard instanceof Response) return guard
    const { session, form } = guard
    const kv = c.env.RULES
    if (kv === undefined) return c.html(<MessagePage title="Veneer admin" message="The RULES KV namespace is not bound." />, 503)
    const version = field(form, 'version', 200)
    const stored = await kv.get(versionKey(version), 'text')
    if (stored !== null && !compileRulesetText(stored, { checkSelector: htmlRewriterSelectorCheck }).ok) {
      return render(
        c,
        session,
        { flash: { kind: 'error', text: `Version ${version} does not validate any more; it was not activated.` } },
        422,
      )
    }
    const out = await rollbackTo(kvStore(kv), version)
    if (!out.ok) return render(c, session, { flash: { kind: 'error', text: `There is no stored version "${version}".` } }, 400)
    forgetRuleset(kv)
    return c.body(null, 303, { location: `${HOME}?done=rolledback:${encodeURIComponent(out.version)}` })
  },
)
