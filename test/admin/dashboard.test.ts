import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { ResultsView } from '../../src/admin/dashboard/results'
import { wilson } from '../../src/admin/dashboard/charts'
import { setResultsProvider } from '../../src/admin/results-source'
import { createSession, readSession } from '../../src/admin/session'
import type { ExperimentResults, GoalResult } from '../../src/measure/types'
import { api, BASE, clearRules, demoRuleset, testEnv, TOKEN } from './helpers'

const app = createApp()
const ADMIN = `${BASE}/__veneer/admin`

beforeEach(clearRules)
afterEach(() => setResultsProvider(undefined))

function get(cookie?: string, url = ADMIN, e = testEnv) {
  return app.request(url, { headers: cookie === undefined ? {} : { cookie } }, e)
}

function post(path: string, fields: Record<string, string>, headers: Record<string, string> = { origin: BASE }, e = testEnv) {
  return app.request(
    `${ADMIN}${path}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    },
    e,
  )
}

/** Logs in through the form; returns the cookie pair and the CSRF token from the page. */
async function login(): Promise<{ cookie: string; csrf: string }> {
  const res = await post('/login', { token: TOKEN })
  expect(res.status).toBe(303)
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  const page = await (await get(cookie)).text()
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? ''
  expect(csrf.length).toBeGreaterThan(16)
  return { cookie, csrf }
}

describe('dashboard login and session', () => {
  it('shows the login form without a session, uncached, with no scripts allowed', async () => {
    const res = await get()
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    const html = await res.text()
    expect(html).toContain('name="token"')
    expect(html).not.toContain('<script')
  })

  it('is off when ADMIN_TOKEN is unset', async () => {
    const off = { ...testEnv, ADMIN_TOKEN: undefined }
    expect((await get(undefined, ADMIN, off)).status).toBe(503)
    const res = await post('/login', { token: '' }, { origin: BASE }, off)
    expect(res.status).toBe(503)
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('refuses a wrong token (401) and logs in with the right one: HttpOnly, Secure, SameSite=Strict cookie', async () => {
    const wrong = await post('/login', { token: `${TOKEN}!` })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('set-cookie')).toBeNull()
    expect(await wrong.text()).toContain('That is not the admin token.')
    const ok = await post('/login', { token: TOKEN })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/__veneer/admin')
    const cookie = ok.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(
      /^veneer_admin=v1\.\d+\.[\w-]+\.[\w-]+; Max-Age=28800; Path=\/__veneer\/admin; HttpOnly; Secure; SameSite=Strict$/,
    )
    expect(cookie).not.toContain(TOKEN)
  })

  it('leaves Secure off only on plain-HTTP localhost', async () => {
    const res = await app.request(
      'http://localhost:8787/__veneer/admin/login',
      {
        method: 'POST',
        headers: { origin: 'http://localhost:8787', 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${TOKEN}`,
      },
      testEnv,
    )
    expect(res.status).toBe(303)
    expect(res.headers.get('set-cookie')).not.toContain('Secure')
    expect(res.headers.get('set-cookie')).toContain('HttpOnly; SameSite=Strict')
  })

  it('refuses a login posted from another site, or with no origin at all', async () => {
    expect((await post('/login', { token: TOKEN }, { origin: 'https://evil.example' })).status).toBe(403)
    expect((await post('/login', { token: TOKEN }, {})).status).toBe(403)
    // Referer alone is not enough (one same-origin rule, src/http/origin.ts: Origin or Sec-Fetch-Site).
    expect((await post('/login', { token: TOKEN }, { referer: `${BASE}/__veneer/admin` })).status).toBe(403)
    expect((await post('/login', { token: TOKEN }, { 'sec-fetch-site': 'same-origin' })).status).toBe(303)
    expect((await post('/login', { token: TOKEN }, { origin: BASE, 'sec-fetch-site': 'cross-site' })).status).toBe(403)
  })

  it('does not accept a forged, altered, expired or other-token session', async () => {
    const { value } = await createSession(TOKEN)
    expect(await readSession(TOKEN, value)).toBeDefined()
    const [v, exp, csrf, mac] = value.split('.')
    expect(await readSession(TOKEN, `${v}.${Number(exp) + 3600}.${csrf}.${mac}`)).toBeUndefined()
    expect(await readSession(TOKEN, `${v}.${exp}.${csrf}.${mac!.slice(0, -2)}AA`)).toBeUndefined()
    expect(await readSession('another-token', value)).toBeUndefined()
    expect(await readSession(TOKEN, value, Date.now() + 9 * 3600 * 1000)).toBeUndefined()
    expect(await readSession(TOKEN, 'garbage')).toBeUndefined()
    const page = await (await get(`veneer_admin=${v}.${exp}.${csrf}.${mac!.slice(0, -2)}AA`)).text()
    expect(page).toContain('name="token"')
  })
})

describe('dashboard pages and forms', () => {
  it('shows the active version, placements with variants and pages, segments and history', async () => {
    const r1 = await (await api('PUT', '/ruleset', demoRuleset())).json<any>()
    const { cookie } = await login()
    const res = await get(cookie)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const html = await res.text()
    expect(html).toContain(`data-testid="active-version">${r1.version}<`)
    expect(html).toContain('home-hero')
    expect(html).toContain('Willkommen in {{geo.city}}!')
    expect(html).toMatch(/<code class="chip">\/index.html<\/code>/)
    expect(html).toContain('mobile-evening')
    expect(html).toContain(`data-version="${r1.version}"`)
    expect(html).toContain('name="viewport" content="width=device-width, initial-scale=1"')
  })

  it('refuses posts without the session CSRF token, from another origin, or without a session', async () => {
    await api('PUT', '/ruleset', demoRuleset())
    const { cookie, csrf } = await login()
    const doc = JSON.stringify(demoRuleset())
    expect(
      (await post('/publish', { csrf: 'x'.repeat(24), ruleset: doc, action: 'publish' }, { origin: BASE, cookie })).status,
    ).toBe(403)
    expect((await post('/publish', { ruleset: doc, action: 'publish' }, { origin: BASE, cookie })).status).toBe(403)
    expect(
      (await post('/publish', { csrf, ruleset: doc, action: 'publish' }, { origin: 'https://evil.example', cookie })).status,
    ).toBe(403)
    expect((await post('/publish', { csrf, ruleset: doc, action: 'publish' }, { origin: BASE })).status).toBe(401)
    const versions = await (await api('GET', '/ruleset/versions')).json<any>()
    expect(versions.versions).toHaveLength(1)
  })

  it('validates and publishes from the form; errors are shown with their paths and nothing is published', async () => {
    const r1 = await (await api('PUT', '/ruleset', demoRuleset())).json<any>()
    const { cookie, csrf } = await login()
    const bad = demoRuleset()
    bad.placements[2].selector = 'p + p'
    const refused = await post('/publish', { csrf, ruleset: JSON.stringify(bad), action: 'publish' }, { origin: BASE, cookie })
    expect(refused.status).toBe(422)
    const html = await refused.text()
    expect(html).toContain('<code>placements.2.selector</code>')
    expect(html).toContain('nothing was published')
    expect((await (await api('GET', '/ruleset')).json<any>()).version).toBe(r1.version)

    const good = demoRuleset()
    good.placements[1].rules.push({ variant: 'tablet' })
    const checked = await post('/publish', { csrf, ruleset: JSON.stringify(good), action: 'validate' }, { origin: BASE, cookie })
    expect(checked.status).toBe(200)
    expect(await checked.text()).toContain('Valid: nothing blocks a publish.')
    expect((await (await api('GET', '/ruleset')).json<any>()).version).toBe(r1.version)

    const published = await post(
      '/publish',
      { csrf, ruleset: JSON.stringify(good), action: 'publish', note: 'tablet promo for all' },
      { origin: BASE, cookie },
    )
    expect(published.status).toBe(303)
    const location = published.headers.get('location') ?? ''
    expect(location).toMatch(/^\/__veneer\/admin\?done=published:v2-/)
    const after = await (await get(cookie, `${BASE}${location}`)).text()
    expect(after).toMatch(/Published v2-/)
    expect(after).toContain('tablet promo for all')
    const page = await (await app.request(`${BASE}/`, {}, testEnv)).text()
    expect(page).toContain('Browse the full catalogue in landscape.')
  })

  it('rolls back from the history', async () => {
    const r1 = await (await api('PUT', '/ruleset', demoRuleset())).json<any>()
    await api('PUT', '/ruleset', demoRuleset())
    const { cookie, csrf } = await login()
    const res = await post('/rollback', { csrf, version: r1.version }, { origin: BASE, cookie })
    expect(res.status).toBe(303)
    expect((await (await api('GET', '/ruleset')).json<any>()).version).toBe(r1.version)
    const missing = await post('/rollback', { csrf, version: 'v77-none' }, { origin: BASE, cookie })
    expect(missing.status).toBe(400)
  })

  it('previews a German mobile visitor in the evening with the same trace as the API', async () => {
    await api('PUT', '/ruleset', demoRuleset())
    const { cookie, csrf } = await login()
    const res = await post(
      '/preview',
      { csrf, country: 'de', city: 'Berlin', device: 'mobile', hour: '21', path: '/', utm: '', profile: '' },
      { origin: BASE, cookie },
    )
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('x-veneer: personalized')
    expect(html).toMatch(/<tr data-placement="home-hero"><td>home-hero<\/td><td><b>germany<\/b><\/td>/)
    expect(html).toMatch(/<tr data-placement="greeting"><td>greeting<\/td><td><b>late-mobile<\/b><\/td>/)
    expect(html).toContain('Willkommen in Berlin!')
    const bad = await post(
      '/preview',
      { csrf, country: 'Germany', device: 'mobile', hour: '', path: '/', utm: '', profile: '' },
      { origin: BASE, cookie },
    )
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('two-letter code')
  })

  it('logs out', async () => {
    const { cookie, csrf } = await login()
    const res = await post('/logout', { csrf }, { origin: BASE, cookie })
    expect(res.status).toBe(303)
    expect(res.headers.get('set-cookie')).toMatch(/^veneer_admin=; .*Max-Age=0/)
  })
})

const goal = (over: Partial<GoalResult>): GoalResult => ({
  goal: 'purchase',
  visitors: 1000,
  conversions: 50,
  rate: 0.05,
  lift: null,
  ci95: null,
  cs95: null,
  pValue: null,
  pAdjusted: null,
  cuped: null,
  ...over,
})

const RESULTS: ExperimentResults = {
  experiment: 'evening-copy',
  placement: 'greeting',
  control: 'control',
  segment: '*',
  arms: [
    { variant: 'control', visitors: 1000, expectedShare: 0.5, goals: [goal({})] },
    {
      variant: 'evening',
      visitors: 980,
      expectedShare: 0.5,
      goals: [
        goal({
          visitors: 980,
          conversions: 78,
          rate: 78 / 980,
          lift: { abs: 78 / 980 - 0.05, rel: 0.59 },
          ci95: [0.008, 0.051],
          cs95: [0.002, 0.058],
          pValue: 0.007,
          pAdjusted: 0.007,
          cuped: { lift: 0.029, ci95: [0.01, 0.048], varianceReduction: 0.2 },
        }),
      ],
    },
  ],
  srm: { chiSquare: 0.2, degreesOfFreedom: 1, pValue: 0.65, mismatch: false },
  power: { mde: 0.02, visitorsNeeded: 0, targetLift: 0.1, goal: 'purchase' },
  primaryGoal: 'purchase',
  correction: 'holm',
  decision: 'ship',
  reason: '"evening" raises "purchase" by +2.96 points (95% range +0.20 points to +5.80 points).',
  history: [
    { day: '2026-11-20', arm: 'evening', visitors: 290, lift: 0.03, ci95: [-0.01, 0.07], cs95: [-0.04, 0.1] },
    { day: '2026-11-21', arm: 'evening', visitors: 980, lift: 0.0296, ci95: [0.008, 0.051], cs95: [0.002, 0.058] },
  ],
  exposuresByDay: [
    { day: '2026-11-20', variant: 'control', visitors: 300 },
    { day: '2026-11-20', variant: 'evening', visitors: 290 },
    { day: '2026-11-21', variant: 'control', visitors: 700 },
    { day: '2026-11-21', variant: 'evening', visitors: 690 },
  ],
  tuning: 5000,
  notes: [],
}

describe('experiment results on the dashboard', () => {
  function withExperiment() {
    const doc = demoRuleset()
    doc.placements[2].rules.unshift({
      segment: 'evening',
      experiment: { id: 'evening-copy', split: { control: 50, evening: 50 } },
    })
    return doc
  }

  it('says measurement is not available when results cannot be computed, and that nothing is recorded yet when they can', async () => {
    await api('PUT', '/ruleset', withExperiment())
    setResultsProvider(async () => {
      throw new Error('store down')
    })
    const { cookie } = await login()
    const down = await (await get(cookie)).text()
    expect(down).toContain('evening-copy')
    expect(down).toContain('results could not be computed')
    setResultsProvider(undefined) // the real measurement store (D1), empty
    const empty = await (await get(cookie)).text()
    expect(empty).toContain('no exposures recorded yet')
  })

  it('draws the rate per variant with its interval and the exposures over time as SVG', async () => {
    setResultsProvider(async (_env, id) => (id === 'evening-copy' ? RESULTS : undefined))
    await api('PUT', '/ruleset', withExperiment())
    const { cookie } = await login()
    const html = await (await get(cookie)).text()
    expect(html).toContain('aria-label="Conversion rate for goal purchase per variant, with 95% intervals"')
    expect(html).toContain('aria-label="Exposed visitors per day and variant"')
    expect(html).toContain('<polyline')
    expect(html).toContain('1980 exposed visitors')
    // The decision in words, the confidence sequence over time, CUPED and adjusted p-values.
    expect(html).toContain('<b>Ship it.</b>')
    expect(html).toContain('aria-label="Lift on purchase over time with its 95% confidence sequence"')
    expect(html).toContain('+2.90 pp (+1.00 pp … +4.80 pp), −20% variance')
    expect(html).toContain('p adjusted (Holm)')
    const [lo, hi] = wilson(78, 980)
    expect(html).toContain(
      `evening: 78 of 980 visitors, 7.96% (95% interval ${(lo * 100).toFixed(2)}% to ${(hi * 100).toFixed(2)}%)`,
    )
  })

  it('flags a sample-ratio mismatch', async () => {
    const html = await ResultsView({
      results: { ...RESULTS, srm: { chiSquare: 40, degreesOfFreedom: 1, pValue: 1e-9, mismatch: true } },
    }).toString()
    expect(html).toContain('Sample-ratio mismatch')
  })

  it('wilson intervals contain the rate and shrink with more data', () => {
    const [a, b] = wilson(5, 100)
    const [c, d] = wilson(500, 10_000)
    expect(a).toBeLessThan(0.05)
    expect(b).toBeGreaterThan(0.05)
    expect(d - c).toBeLessThan(b - a)
    expect(wilson(0, 0)).toEqual([0, 0])
  })
})
