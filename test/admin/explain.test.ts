import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { api, cfGermany, clearRules, demoRuleset, IPHONE_UA, testEnv } from './helpers'

beforeEach(clearRules)

// 19:30 UTC is 20:30 in Berlin (CET): evening, so a mobile visitor there is "mobile-evening".
const AT = new Date('2026-11-22T19:30:00Z')

async function realPage(path: string, init: RequestInit & { cf?: unknown }): Promise<{ xVeneer: string | null; html: string }> {
  const app = createApp({ now: () => AT })
  const ctx = createExecutionContext()
  const res = await app.fetch(new Request(`https://shop.example${path}`, init as RequestInit), testEnv, ctx)
  const html = await res.text()
  await waitOnExecutionContext(ctx)
  return { xVeneer: res.headers.get('x-veneer'), html }
}

function textOps(trace: any): string[] {
  return trace.rewrite.flatMap((r: any) =>
    r.ops.filter((o: any) => o.op === 'setText' || o.op === 'setHtml').map((o: any) => o.value),
  )
}

describe('POST api/explain agrees with a real request', () => {
  it('a German mobile visitor in the evening: same variants, same page text', async () => {
    await api('PUT', '/ruleset', demoRuleset())
    const cf = cfGermany()
    const res = await api('POST', '/explain', {
      geo: { country: 'DE', city: 'Berlin', timezone: 'Europe/Berlin', continent: 'EU', region: 'Berlin' },
      device: { type: 'mobile' },
      at: AT.toISOString(),
      path: '/',
    })
    expect(res.status).toBe(200)
    const trace = await res.json<any>()
    expect(trace.placements.map((p: any) => [p.placement, p.variant])).toEqual([
      ['home-hero', 'germany'],
      ['promo-bar', 'mobile-app'],
      ['greeting', 'late-mobile'],
      ['popular-now', 'recommended'], // its items depend on the model and the cookie: not in `rewrite`
    ])
    expect(trace.segments.filter((s: any) => s.matched).map((s: any) => s.id)).toEqual([
      'germany',
      'eu',
      'mobile',
      'evening',
      'mobile-evening',
    ])
    expect(trace.placements[0].reason).toEqual({ kind: 'rule', rule: 1 })
    expect(trace.placements[0].rules).toEqual([
      { index: 0, segment: 'from-newsletter', matched: false, decided: false },
      { index: 1, segment: 'germany', matched: true, decided: true },
      { index: 2, segment: 'us', matched: false, decided: false },
    ])
    expect(trace.context.time.hour).toBe(20)

    const page = await realPage('/', { cf, headers: { 'user-agent': IPHONE_UA } })
    expect(page.xVeneer).toBe(trace.xVeneer)
    expect(trace.xVeneer).toBe('personalized')
    const texts = textOps(trace)
    expect(texts).toContain('Willkommen in Berlin! Versand nach Deutschland, Österreich und in die Schweiz ist kostenlos.')
    for (const t of texts) expect(page.html).toContain(t)
    expect(page.html).not.toContain('Everyday gear, made to last.')
  })

  it('an hour asked for becomes the request time in the visitor timezone (same answer as a request at that time)', async () => {
    await api('PUT', '/ruleset', demoRuleset())
    const trace = await (
      await api('POST', '/explain', {
        'geo.country': 'DE',
        'geo.city': 'Berlin',
        'geo.timezone': 'Europe/Berlin',
        'device.type': 'desktop',
        'time.hour': 9,
      })
    ).json<any>()
    expect(trace.context.time.hour).toBe(9)
    const greeting = trace.placements.find((p: any) => p.placement === 'greeting')
    expect(greeting.variant).toBe('morning')
    expect(textOps(trace)).toContain('Good morning! It is 9:00 where you are.')
    // Same local date as now in Berlin, at 09:xx.
    expect(trace.context.time.date).toBe(new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date()))
  })

  it('a US desktop visitor from the newsletter on a product page, with headers passed through', async () => {
    await api('PUT', '/ruleset', demoRuleset())
    const headers = {
      'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15',
      'accept-language': 'en-US,en;q=0.9',
    }
    const cf = {
      country: 'US',
      city: 'Austin',
      region: 'Texas',
      regionCode: 'TX',
      continent: 'NA',
      timezone: 'America/Chicago',
      isEUCountry: '0',
      postalCode: '78701',
      latitude: '30.27',
      longitude: '-97.74',
    }
    const trace = await (
      await api('POST', '/explain', {
        geo: { country: 'US', city: 'Austin', timezone: 'America/Chicago' },
        headers,
        at: AT.toISOString(),
        path: '/',
        request: { utm: { source: 'newsletter' } },
      })
    ).json<any>()
    expect(trace.request.url).toContain('utm_source=newsletter')
    expect(trace.context.request.language).toBe('en-us')
    // Scalars of the request context are set on a copy (the request context has getters only).
    const told = await (
      await api('POST', '/explain', { path: '/', request: { language: 'de-de', referrer: 'https://news.example/a' } })
    ).json<any>()
    expect(told.context.request.language).toBe('de-de')
    expect(told.context.request.referrer).toBe('https://news.example/a')
    const hero = trace.placements.find((p: any) => p.placement === 'home-hero')
    expect(hero.variant).toBe('newsletter')
    const page = await realPage('/?utm_source=newsletter', { cf, headers } as any)
    expect(page.xVeneer).toBe(trace.xVeneer)
    expect(page.html).toContain('Welcome back, reader: <em>10% off</em> with code LETTER.')
    expect(page.html).toContain('Good afternoon.') // 13:30 in Chicago
    expect(trace.placements.find((p: any) => p.placement === 'greeting').variant).toBe('afternoon')
    expect(trace.placements.find((p: any) => p.placement === 'promo-bar').variant).toBe('control')
  })

  it('excluded paths and bots: the same "nothing decided" a request gets', async () => {
    await api('PUT', '/ruleset', demoRuleset())
    const excluded = await (await api('POST', '/explain', { path: '/assets/shop.css' })).json<any>()
    expect(excluded.xVeneer).toBeNull()
    expect(excluded.note).toMatch(/settings.include|exclude/)
    const bot = await (await api('POST', '/explain', { device: { type: 'bot' }, geo: { country: 'DE' } })).json<any>()
    expect(bot.xVeneer).toBe('generic')
    expect(bot.placements).toEqual([])
    const page = await realPage('/', {
      cf: cfGermany(),
      headers: { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' },
    })
    expect(page.xVeneer).toBe('generic')
    expect(page.html).toContain('Everyday gear, made to last.')
  })

  it('explains a draft ruleset without publishing it, and overlays profile claims', async () => {
    const draft = demoRuleset()
    draft.segments.push({ id: 'gold', when: { 'profile.tier': 'gold' } })
    draft.placements[1].rules.unshift({ segment: 'gold', variant: 'tablet' })
    const res = await api('POST', '/explain', { context: { profile: { tier: 'gold' }, path: '/products/' }, ruleset: draft })
    const trace = await res.json<any>()
    expect(trace.rulesetVersion).toBe(demoRuleset().version)
    expect(trace.placements).toEqual([expect.objectContaining({ placement: 'promo-bar', variant: 'tablet' })])
    expect(trace.context.profile).toEqual({ tier: 'gold' })
    expect(await testEnv.RULES!.get('ruleset')).toBeNull()
    const bad = await api('POST', '/explain', { context: {}, ruleset: { placements: 3 } })
    expect(bad.status).toBe(422)
    expect((await bad.json<any>()).details[0].path).toBe('ruleset.placements')
  })

  it('overlays visitor attributes, firstSeen included (the visitor state computes it on first read)', async () => {
    const draft = demoRuleset()
    draft.segments.push({ id: 'old-hand', when: { 'visitor.firstSeen': { $lt: '2021-01-01' }, 'visitor.sessions': { $gte: 3 } } })
    draft.placements[1].rules.unshift({ segment: 'old-hand', variant: 'tablet' })
    const res = await api('POST', '/explain', {
      context: { visitor: { firstSeen: '2020-03-01T00:00:00.000Z', sessions: 4 }, path: '/products/' },
      ruleset: draft,
    })
    expect(res.status).toBe(200)
    const trace = await res.json<any>()
    expect(trace.placements).toEqual([expect.objectContaining({ placement: 'promo-bar', variant: 'tablet' })])
    expect(trace.context.visitor).toMatchObject({ firstSeen: '2020-03-01T00:00:00.000Z', sessions: 4 })
  })

  it('is 404 with nothing published and 400 for a body that is not an object', async () => {
    expect((await api('POST', '/explain', { path: '/' })).status).toBe(404)
    expect((await api('POST', '/explain', '[1]')).status).toBe(400)
    expect((await api('POST', '/explain', 'geo')).status).toBe(400)
  })
})
