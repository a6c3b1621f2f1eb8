import { env as workerEnv } from 'cloudflare:workers'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import demo from '../../demo/ruleset.json'
import { createApp } from '../../src/app'
import type { Env } from '../../src/env'
import { mintQaToken } from '../../src/qa/token'
import { QA_SECRET, invalidTokens } from './tokens'

// 14:00 UTC: 09:00 in New York, 15:00 in Berlin. The QA context below moves the hour to 20.
// The bindings of wrangler.toml and vitest.config.ts, typed as Veneer reads them.
const env = workerEnv as unknown as Env & { RULES: KVNamespace }

const NOW = new Date('2026-11-22T14:00:00Z')
const app = createApp({ now: () => NOW, budgetMs: 1000 })

const NEW_YORK = {
  country: 'US',
  city: 'New York',
  region: 'New York',
  regionCode: 'NY',
  continent: 'NA',
  isEUCountry: '0',
  timezone: 'America/New_York',
  postalCode: '10001',
  latitude: '40.71',
  longitude: '-74.01',
  colo: 'EWR',
  asn: 7922,
}
const DESKTOP_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36'
const GERMAN_MOBILE_20H = 'geo.country=DE; geo.city=Berlin; device.type=mobile; time.hour=20'

async function get(
  path: string,
  headers: Record<string, string> = {},
  host = 'https://shop.example',
): Promise<{ res: Response; body: string }> {
  const request = new Request(`${host}${path}`, {
    headers: { 'user-agent': DESKTOP_UA, 'accept-encoding': 'identity', ...headers },
    cf: NEW_YORK,
  })
  const ctx = createExecutionContext()
  const res = await app.fetch(request, env, ctx)
  const body = await res.text()
  await waitOnExecutionContext(ctx)
  return { res, body }
}

function text(body: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>(?:<h1>)?([^<]*)<`).exec(body)
  return m?.[1]
}

interface Trace {
  segments: string[]
  holdout: boolean
  placements: { placement: string; variant: string; reason: Record<string, unknown> }[]
  simulated: Record<string, unknown>
  overrides: Record<string, string>
  ignored: string[]
}

let token: string

beforeAll(async () => {
  await env.RULES.put('ruleset', JSON.stringify(demo))
  token = await mintQaToken(QA_SECRET, 3600)
})

describe('QA through the Worker, by header', () => {
  it('shows the German mobile visitor at 20:00, with a trace and no shared caching', async () => {
    const plain = await get('/')
    expect(text(plain.body, 'hero')).toBe('Free two-day shipping anywhere in the US.')
    expect(plain.res.headers.get('x-veneer-trace')).toBeNull()

    const { res, body } = await get('/', { 'x-veneer-qa': token, 'x-veneer-context': GERMAN_MOBILE_20H })
    expect(res.status).toBe(200)
    expect(text(body, 'hero')).toBe(
      'Willkommen in Berlin! Versand nach Deutschland, Österreich und in die Schweiz ist kostenlos.',
    )
    expect(text(body, 'promo')).toBe('Shopping on your phone? Our app saves your cart for later.')
    expect(text(body, 'greeting')).toBe('Late-night scrolling? Save it to your cart and sleep on it.')
    expect(res.headers.get('cache-control')).toContain('private')
    expect(res.headers.get('cache-control')).toContain('no-store')

    const trace = JSON.parse(res.headers.get('x-veneer-trace') ?? 'null') as Trace
    expect(trace.segments).toEqual(['germany', 'eu', 'mobile', 'evening', 'mobile-evening'])
    expect(trace.holdout).toBe(false)
    expect(trace.placements).toEqual([
      { placement: 'home-hero', variant: 'germany', reason: { kind: 'rule', rule: 1 } },
      { placement: 'promo-bar', variant: 'mobile-app', reason: { kind: 'rule', rule: 0 } },
      { placement: 'greeting', variant: 'late-mobile', reason: { kind: 'rule', rule: 0 } },
      { placement: 'popular-now', variant: 'recommended', reason: { kind: 'rule', rule: 0 } },
    ])
    expect(trace.simulated).toEqual({ 'geo.country': 'DE', 'geo.city': 'Berlin', 'device.type': 'mobile', 'time.hour': 20 })
    expect(trace.ignored).toEqual([])
  })

  it('forces a variant by placement id, over the rules', async () => {
    const { res, body } = await get('/', { 'x-veneer-qa': token, 'x-veneer-override': 'home-hero=newsletter, greeting=control' })
    expect(body).toContain('Welcome back, reader: <em>10% off</em> with code LETTER.')
    expect(text(body, 'greeting')).toBe('Welcome to the shop.')
    const trace = JSON.parse(res.headers.get('x-veneer-trace') ?? 'null') as Trace
    expect(trace.placements.find((p) => p.placement === 'home-hero')).toEqual({
      placement: 'home-hero',
      variant: 'newsletter',
      reason: { kind: 'override', by: 'placement' },
    })
    expect(trace.overrides).toEqual({ 'home-hero': 'newsletter', greeting: 'control' })
  })

  it('forces each arm of the demo experiment by experiment id', async () => {
    const bag = await get('/products/jacket.html', { 'x-veneer-qa': token, 'x-veneer-override': 'cart-button-copy=add-to-bag' })
    expect(text(bag.body, 'add-to-cart')).toBe('Add to bag')
    const trace = JSON.parse(bag.res.headers.get('x-veneer-trace') ?? 'null') as Trace
    expect(trace.placements.find((p) => p.placement === 'cart-button')).toEqual({
      placement: 'cart-button',
      variant: 'add-to-bag',
      reason: { kind: 'override', by: 'experiment' },
    })
    const control = await get('/products/jacket.html', { 'x-veneer-qa': token, 'x-veneer-override': 'cart-button-copy=control' })
    expect(text(control.body, 'add-to-cart')).toBe('Add to cart')
  })

  it('ignores an override to a variant the placement does not have, and says which entries it ignored', async () => {
    const { res, body } = await get('/', {
      'x-veneer-qa': token,
      'x-veneer-override': 'home-hero=nope, bad entry',
      'x-veneer-context': 'geo.country=Germany; time.hour=20',
    })
    expect(text(body, 'hero')).toBe('Free two-day shipping anywhere in the US.')
    const trace = JSON.parse(res.headers.get('x-veneer-trace') ?? 'null') as Trace
    expect(trace.placements[0]).toEqual({ placement: 'home-hero', variant: 'us', reason: { kind: 'rule', rule: 2 } })
    expect(trace.ignored).toEqual(['override bad entry', 'context geo.country'])
  })

  it('shows the experiment bucket in the trace for a consenting visitor the experiment takes', async () => {
    // The consent/identity layer gives every consenting visitor an id, so the experiment takes.
    const { res } = await get('/products/jacket.html', { 'x-veneer-qa': token })
    const trace = JSON.parse(res.headers.get('x-veneer-trace') ?? 'null') as Trace
    const cart = trace.placements.find((p) => p.placement === 'cart-button')
    expect(cart?.reason).toMatchObject({
      kind: 'experiment',
      rule: 0,
      experiment: 'cart-button-copy',
      bucket: expect.any(Number),
    })
    expect(['control', 'add-to-bag']).toContain(cart?.variant)
  })
})

describe('invalid QA tokens are ignored entirely', () => {
  it('forged, expired, wrong-scope, unsigned: the headers have no effect and there is no trace', async () => {
    const plain = await get('/')
    for (const [why, bad] of Object.entries(await invalidTokens())) {
      for (const via of ['header', 'cookie'] as const) {
        const auth: Record<string, string> = via === 'header' ? { 'x-veneer-qa': bad } : { cookie: `veneer_qa=${bad}` }
        const { res, body } = await get('/', {
          ...auth,
          'x-veneer-override': 'home-hero=newsletter',
          'x-veneer-context': GERMAN_MOBILE_20H,
        })
        expect(res.headers.get('x-veneer-trace'), `${why} via ${via}`).toBeNull()
        expect(res.headers.get('cache-control') ?? '', `${why} via ${via}`).not.toContain('no-store')
        expect(body, `${why} via ${via}`).toBe(plain.body)
      }
    }
  })

  it('without any token, override and context headers do nothing', async () => {
    const plain = await get('/')
    const { res, body } = await get('/', { 'x-veneer-override': 'home-hero=newsletter', 'x-veneer-context': GERMAN_MOBILE_20H })
    expect(body).toBe(plain.body)
    expect(res.headers.get('x-veneer-trace')).toBeNull()
  })
})

describe('GET /__veneer/qa and the veneer_qa cookie', () => {
  it('sets an HttpOnly, Secure, SameSite=Lax cookie for the rest of the token life', async () => {
    const { res } = await get(`/__veneer/qa?token=${token}`)
    expect(res.status).toBe(200)
    const cookie = res.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(new RegExp(`^veneer_qa=${token.replace(/\./g, '\\.')}; `))
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('Secure')
    expect(cookie).toContain('SameSite=Lax')
    expect(cookie).toContain('Path=/')
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)?.[1])
    expect(maxAge).toBeGreaterThan(3590)
    expect(maxAge).toBeLessThanOrEqual(3600)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('leaves out Secure on localhost', async () => {
    const { res } = await get(`/__veneer/qa?token=${token}`, {}, 'http://localhost:8787')
    expect(res.headers.get('set-cookie')).not.toContain('Secure')
  })

  it('a valid cookie works like the header, including stored overrides and context', async () => {
    const session = await get(
      `/__veneer/qa?token=${token}&override=${encodeURIComponent('promo-bar=tablet')}&context=${encodeURIComponent(GERMAN_MOBILE_20H)}&to=/`,
    )
    expect(session.res.status).toBe(302)
    expect(session.res.headers.get('location')).toBe('/')
    const cookie = (session.res.headers.get('set-cookie') ?? '').split(';')[0] as string
    const { res, body } = await get('/', { cookie: `other=1; ${cookie}` })
    expect(text(body, 'hero')).toBe(
      'Willkommen in Berlin! Versand nach Deutschland, Österreich und in die Schweiz ist kostenlos.',
    )
    expect(text(body, 'promo')).toBe('Browse the full catalogue in landscape.')
    expect(res.headers.get('x-veneer-trace')).not.toBeNull()
    // Headers refine the cookie's settings.
    const refined = await get('/', { cookie, 'x-veneer-override': 'home-hero=us' })
    expect(text(refined.body, 'hero')).toBe('Free two-day shipping anywhere in the US.')
    // A bare-token cookie works too.
    const bare = await get('/', { cookie: `veneer_qa=${token}`, 'x-veneer-override': 'home-hero=newsletter' })
    expect(bare.body).toContain('with code LETTER')
  })

  it('reuses the cookie token to change overrides from the form', async () => {
    const first = await get(`/__veneer/qa?token=${token}&override=home-hero%3Dus`)
    const cookie = (first.res.headers.get('set-cookie') ?? '').split(';')[0] as string
    const changed = await get('/__veneer/qa?override=home-hero%3Dgermany&context=', { cookie })
    expect(changed.res.status).toBe(200)
    expect(changed.body).toContain('home-hero=germany')
    const next = (changed.res.headers.get('set-cookie') ?? '').split(';')[0] as string
    const { body } = await get('/', { cookie: next })
    expect(text(body, 'hero')).toMatch(/^Willkommen in New York!/) // forced variant, real location
  })

  it('refuses a missing token with 400 and an invalid one with 401, without a cookie', async () => {
    const missing = await get('/__veneer/qa')
    expect(missing.res.status).toBe(400)
    expect(JSON.parse(missing.body)).toMatchObject({ error: 'missing_token' })
    for (const bad of Object.values(await invalidTokens())) {
      const { res, body } = await get(`/__veneer/qa?token=${encodeURIComponent(bad)}`)
      expect(res.status).toBe(401)
      expect(JSON.parse(body)).toMatchObject({ error: 'invalid_token' })
      expect(res.headers.get('set-cookie')).toBeNull()
    }
  })

  it('?clear=1 removes the cookie', async () => {
    const { res } = await get('/__veneer/qa?clear=1')
    expect(res.status).toBe(200)
    expect(res.headers.get('set-cookie')).toMatch(/^veneer_qa=; Max-Age=0; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
  })

  it('does not redirect off-site', async () => {
    const { res } = await get(`/__veneer/qa?token=${token}&to=${encodeURIComponent('//evil.example/')}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('location')).toBeNull()
  })
})
