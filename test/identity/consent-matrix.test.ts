import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { mintProfileToken } from '../../src/identity/profile-token'
import { CF, jwtPayload, send, seedRuleset, testEnv, textOf } from './helpers'

/**
 * SPEC 5, every combination: consent default (opt-in / opt-out) × country in / out of
 * `optInCountries` (DE via "EU" / US) × `Sec-GPC: 1` or not × `veneer_consent` granted /
 * refused / absent. Each case asserts the cookies set and what the rules could see.
 */
function ruleset(consentDefault: 'opt-in' | 'opt-out', contextualWithoutConsent = true) {
  const text = (id: string, value: string) => ({ id, ops: [{ op: 'setText', value }] })
  return {
    version: `matrix-${consentDefault}-${contextualWithoutConsent}`,
    settings: {
      consent: { default: consentDefault, optInCountries: ['EU', 'GB'] },
      contextualWithoutConsent,
      categories: { product: '/products/?*' },
    },
    segments: [
      { id: 'de', when: { 'geo.country': 'DE' } },
      { id: 'us', when: { 'geo.country': 'US' } },
      { id: 'returning', when: { 'behavior.pageViews': { $gte: 1 } } },
      { id: 'known', when: { 'visitor.id': { $exists: true } } },
      { id: 'loyal', when: { 'profile.tier': 'gold' } },
      { id: 'consented', when: { 'consent.personalization': true } },
    ],
    placements: [
      {
        id: 'geo',
        paths: ['/products/*'],
        selector: 'h1',
        variants: [text('de', 'GEO-DE'), text('us', 'GEO-US')],
        rules: [
          { segment: 'de', variant: 'de' },
          { segment: 'us', variant: 'us' },
        ],
      },
      {
        id: 'behavior',
        paths: ['/products/*'],
        selector: '#cart-status',
        variants: [text('r', 'BEHAVIOR-{{behavior.pageViews}}-{{behavior.views.product}}')],
        rules: [{ segment: 'returning', variant: 'r' }],
      },
      {
        id: 'visitor',
        paths: ['/products/*'],
        selector: '#promo',
        variants: [text('k', 'VISITOR-KNOWN')],
        rules: [{ segment: 'known', variant: 'k' }],
      },
      {
        id: 'profile',
        paths: ['/products/*'],
        selector: '#offer',
        variants: [text('l', 'PROFILE-{{profile.tier}}')],
        rules: [{ segment: 'loyal', variant: 'l' }],
      },
      {
        id: 'consent',
        paths: ['/products/*'],
        selector: '.price',
        variants: [text('c', 'CONSENT-ON')],
        rules: [{ segment: 'consented', variant: 'c' }],
      },
    ],
  }
}

type CookieCase = 'granted' | 'refused' | 'absent'
const COOKIE_VALUE: Record<CookieCase, string | undefined> = {
  granted: 'personalization,analytics',
  refused: 'none',
  absent: undefined,
}

interface Case {
  mode: 'opt-in' | 'opt-out'
  country: 'DE' | 'US'
  gpc: boolean
  cookie: CookieCase
}

const cases: Case[] = []
for (const mode of ['opt-in', 'opt-out'] as const)
  for (const country of ['DE', 'US'] as const)
    for (const gpc of [false, true])
      for (const cookie of ['granted', 'refused', 'absent'] as const) cases.push({ mode, country, gpc, cookie })

/** The rule of SPEC 5: an explicit choice wins; else GPC refuses; else opt-in (by mode or country) refuses. */
function expectedPersonalization(c: Case): boolean {
  if (c.cookie !== 'absent') return c.cookie === 'granted'
  if (c.gpc) return false
  return c.mode === 'opt-out' && c.country === 'US'
}

let profileToken = ''
/** A visitor cookie minted under consent, to check it is ignored and deleted without consent. */
let consentedVisitorCookie = ''

beforeAll(async () => {
  profileToken = await mintProfileToken({ secret: testEnv.PROFILE_SECRET, claims: { tier: 'gold' }, ttlSeconds: 3600 })
  await seedRuleset(ruleset('opt-out'))
  const first = await send('/products/backpack', { cf: CF.US })
  consentedVisitorCookie = first.jar.veneer_visitor ?? ''
  expect(consentedVisitorCookie).not.toBe('')
})

describe.each(['opt-in', 'opt-out'] as const)('consent default %s', (mode) => {
  beforeAll(async () => {
    await seedRuleset(ruleset(mode))
  })

  const label = (c: Case) =>
    `${c.country} (${c.country === 'DE' ? 'in' : 'out of'} optInCountries), GPC ${c.gpc ? 'on' : 'off'}, veneer_consent ${c.cookie}`
  it.each(cases.filter((c) => c.mode === mode).map((c) => [label(c), c] as const))('%s', async (_name, c) => {
    const p = expectedPersonalization(c)
    const headers: Record<string, string> = c.gpc ? { 'sec-gpc': '1' } : {}
    const cookies: Record<string, string> = { veneer_profile: profileToken }
    const consent = COOKIE_VALUE[c.cookie]
    if (consent !== undefined) cookies.veneer_consent = consent

    const first = await send('/products/backpack', { cf: CF[c.country], headers, cookies })
    expect(first.res.status).toBe(200)
    // Contextual attributes are always usable here (contextualWithoutConsent: true).
    expect(textOf(first.body, 'promo') === undefined).toBe(false)
    expect(first.body).toContain(c.country === 'DE' ? 'GEO-DE' : 'GEO-US')
    expect(first.res.headers.get('x-veneer')).toBe('personalized')
    // A page response never writes the consent cookie: only an explicit choice does.
    expect(first.setCookies.some((s) => s.startsWith('veneer_consent='))).toBe(false)
    // What the rules saw: visitor, profile and consent.personalization only with consent;
    // behavior as of before this page view (0 on a first visit, so no "returning").
    expect(first.body.includes('VISITOR-KNOWN')).toBe(p)
    expect(first.body.includes('PROFILE-gold')).toBe(p)
    expect(first.body.includes('CONSENT-ON')).toBe(p)
    expect(first.body).not.toContain('BEHAVIOR-')

    if (p) {
      expect(first.setCookies).toHaveLength(1)
      const set = first.setCookies[0] ?? ''
      expect(set).toMatch(/^veneer_visitor=[\w-]+\.[\w-]+\.[\w-]+; /)
      for (const attr of ['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/', 'Max-Age=2592000']) expect(set).toContain(attr)
      expect(first.res.headers.get('cache-control')).toMatch(/private/)
      const again = await send('/products/backpack', {
        cf: CF[c.country],
        headers,
        cookies: { ...cookies, veneer_visitor: first.jar.veneer_visitor ?? '' },
      })
      // The second page sees the first view counted (pageViews 1, views.product 1), not itself.
      expect(textOf(again.body, 'cart-status')).toBe('BEHAVIOR-1-1')
      expect(jwtPayload(again.jar.veneer_visitor ?? '')).toMatchObject({
        pv: 2,
        vw: { product: 2 },
        sub: jwtPayload(first.jar.veneer_visitor ?? '').sub,
      })
    } else {
      expect(first.setCookies).toEqual([])
      // A visitor cookie from an earlier consent is neither read nor refreshed, only deleted.
      const withOld = await send('/products/backpack', {
        cf: CF[c.country],
        headers,
        cookies: { ...cookies, veneer_visitor: consentedVisitorCookie },
      })
      expect(withOld.body).not.toContain('BEHAVIOR-')
      expect(withOld.body).not.toContain('VISITOR-KNOWN')
      expect(withOld.setCookies).toHaveLength(1)
      expect(withOld.setCookies[0]).toMatch(/^veneer_visitor=; Max-Age=0; Path=\//)
    }
  })
})

describe('contextualWithoutConsent: false', () => {
  beforeAll(async () => {
    await seedRuleset(ruleset('opt-in', false))
  })

  it('gives the untouched generic page and no cookie without consent', async () => {
    const { res, body, setCookies } = await send('/products/backpack', { cf: CF.DE })
    expect(res.headers.get('x-veneer')).toBe('generic')
    expect(body).not.toContain('GEO-DE')
    expect(body).toContain('<h1>Day Backpack</h1>')
    expect(setCookies).toEqual([])
  })

  it('personalizes fully once personalization is granted', async () => {
    const { body, setCookies } = await send('/products/backpack', { cf: CF.DE, cookies: { veneer_consent: 'personalization' } })
    expect(body).toContain('GEO-DE')
    expect(body).toContain('VISITOR-KNOWN')
    expect(setCookies.map((s) => s.split('=')[0])).toEqual(['veneer_visitor'])
  })
})

describe('cookie attributes and consent values', () => {
  beforeAll(async () => {
    await seedRuleset(ruleset('opt-out'))
  })

  it('omits Secure on http://localhost only', async () => {
    const local = await send('/products/backpack', { origin: 'http://localhost:8787' })
    expect(local.setCookies[0]).not.toContain('Secure')
    const remote = await send('/products/backpack', { origin: 'http://shop.example' })
    expect(remote.setCookies[0]).toContain('Secure')
  })

  it('drops the origin validators when it sets the visitor cookie, so the next view is served and counted', async () => {
    const app = createApp({
      fetchOrigin: async () =>
        new Response('<html><body><h1>Hi</h1></body></html>', {
          headers: {
            'content-type': 'text/html; charset=utf-8',
            etag: '"v1"',
            'last-modified': 'Sun, 22 Nov 2026 08:00:00 GMT',
            'cache-control': 'public, max-age=0, must-revalidate',
          },
        }),
    })
    const get = async (cookie?: string) => {
      const headers = new Headers(cookie === undefined ? {} : { cookie })
      const ctx = createExecutionContext()
      const res = await app.fetch(
        new Request('https://shop.example/about', { headers, cf: CF.US } as RequestInit),
        { ...testEnv, ORIGIN_URL: 'https://origin.example' },
        ctx,
      )
      await waitOnExecutionContext(ctx)
      return res
    }
    const withState = await get()
    expect(withState.headers.getAll('set-cookie')).toHaveLength(1)
    expect(withState.headers.get('etag')).toBeNull()
    expect(withState.headers.get('last-modified')).toBeNull()
    // A generic page for a visitor with no Veneer state keeps the origin's caching headers (SPEC 8).
    const stateless = await get('veneer_consent=none')
    expect(stateless.headers.getAll('set-cookie')).toEqual([])
    expect(stateless.headers.get('etag')).toBe('"v1"')
    expect(stateless.headers.get('cache-control')).toBe('public, max-age=0, must-revalidate')
  })

  it('reads analytics-only and mangled consent values as SPEC 5 says', async () => {
    const analyticsOnly = await send('/products/backpack', { cookies: { veneer_consent: 'analytics' } })
    expect(analyticsOnly.setCookies).toEqual([])
    expect(analyticsOnly.body).not.toContain('CONSENT-ON')
    // An unreadable value is no choice: the opt-out default applies.
    const mangled = await send('/products/backpack', { cookies: { veneer_consent: 'yes-please' } })
    expect(mangled.body).toContain('CONSENT-ON')
    // GPC values other than "1" are no signal.
    const gpc0 = await send('/products/backpack', { headers: { 'sec-gpc': '0' } })
    expect(gpc0.body).toContain('CONSENT-ON')
  })
})
