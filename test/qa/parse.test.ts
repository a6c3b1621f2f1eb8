import { describe, expect, it } from 'vitest'
import { buildContext, contextualContext } from '../../src/context/build'
import type { VisitorState } from '../../src/context/types'
import { applyQaContext } from '../../src/qa/context'
import { coerceQaValue } from '../../src/qa/fields'
import { MAX_ENTRIES, MAX_QA_HEADER, parseContext, parseOverrides } from '../../src/qa/parse'

describe('x-veneer-override', () => {
  it('reads placement and experiment ids, ignoring what is not two ids', () => {
    const p = parseOverrides(' home-hero=evening, evening-copy=control,broken, =x, a=<b>, ')
    expect([...p.entries]).toEqual([
      ['home-hero', 'evening'],
      ['evening-copy', 'control'],
    ])
    expect(p.ignored).toEqual(['override broken', 'override =x', 'override a'])
  })

  it('is bounded', () => {
    expect(parseOverrides(`a=${'b'.repeat(MAX_QA_HEADER)}`).entries.size).toBe(0)
    const many = Array.from({ length: 80 }, (_, i) => `p${i}=v`).join(',')
    expect(parseOverrides(many).entries.size).toBe(MAX_ENTRIES)
  })
})

describe('x-veneer-context', () => {
  it('keeps known attributes with valid values and ignores the rest', () => {
    const p = parseContext(
      'geo.country=DE; device.type=mobile; time.hour=20; time.hour2=1; device.type2=x; time.minute=75; profile.tier=gold; profile.__proto__=x; geo.city=M%C3%BCnchen; nonsense',
    )
    expect(Object.fromEntries(p.entries)).toEqual({
      'geo.country': 'DE',
      'device.type': 'mobile',
      'time.hour': '20',
      'profile.tier': 'gold',
      'geo.city': 'München',
    })
    expect(p.ignored).toEqual([
      'context time.hour2',
      'context device.type2',
      'context time.minute',
      'context profile.__proto__',
      'context nonsense',
    ])
  })

  it('coerces numbers for time and behavior, booleans for flags, scalars for claims', () => {
    expect(coerceQaValue('time.hour', '20')).toBe(20)
    expect(coerceQaValue('time.hour', '24')).toBeUndefined()
    expect(coerceQaValue('behavior.cartAdds', '2')).toBe(2)
    expect(coerceQaValue('behavior.views.product', '7')).toBe(7)
    expect(coerceQaValue('behavior.purchases', '-1')).toBeUndefined()
    expect(coerceQaValue('geo.isEU', 'true')).toBe(true)
    expect(coerceQaValue('geo.isEU', 'yes')).toBeUndefined()
    expect(coerceQaValue('profile.vip', 'false')).toBe(false)
    expect(coerceQaValue('profile.age', '42')).toBe(42)
    expect(coerceQaValue('profile.tier', 'gold')).toBe('gold')
    expect(coerceQaValue('geo.timezone', 'Europe/Berlin')).toBe('Europe/Berlin')
    expect(coerceQaValue('geo.timezone', 'Mars/Olympus')).toBeUndefined()
    expect(coerceQaValue('time.date', '2026-02-30')).toBeUndefined()
    expect(coerceQaValue('visitor.id', 'x')).toBeUndefined()
    expect(coerceQaValue('consent.personalization', 'true')).toBeUndefined()
  })
})

const AUSTIN = {
  country: 'US',
  city: 'Austin',
  region: 'Texas',
  regionCode: 'TX',
  continent: 'NA',
  timezone: 'America/Chicago',
  postalCode: '78701',
  latitude: '30.27',
  longitude: '-97.74',
}
const NOSTATE: VisitorState = { consent: { personalization: false, analytics: false, gpc: false } }
const AT = new Date('2026-11-22T15:04:05Z') // 09:04:05 in Austin (UTC-6)

function realContext() {
  const req = new Request('https://shop.example/', {
    headers: { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605 Safari/605' },
    cf: AUSTIN,
  })
  return buildContext(contextualContext(req, AT), NOSTATE)
}

describe('applyQaContext', () => {
  it('makes the German mobile visitor at 20:00 consistently', () => {
    const ctx = applyQaContext(realContext(), parseContext('geo.country=DE; device.type=mobile; time.hour=20').entries, AT)
    expect(ctx.geo).toEqual({ country: 'DE', isEU: true, continent: 'EU' }) // no Austin left over
    expect(ctx.device).toMatchObject({ type: 'mobile', isBot: false, os: 'macos' })
    // The timezone was dropped with the location: UTC, then the simulated hour.
    expect(ctx.time).toEqual({ hour: 20, minute: 4, dayOfWeek: 'sun', date: '2026-11-22', iso: '2026-11-22T20:04:05Z' })
  })

  it('recomputes local time for a simulated timezone, then applies date and hour', () => {
    const ctx = applyQaContext(
      realContext(),
      parseContext('geo.country=JP; geo.city=Tokyo; geo.timezone=Asia/Tokyo; time.date=2026-12-24; time.hour=7').entries,
      AT,
    )
    expect(ctx.geo).toMatchObject({ country: 'JP', city: 'Tokyo', isEU: false, timezone: 'Asia/Tokyo' })
    expect(ctx.geo.region).toBeUndefined()
    expect(ctx.time).toEqual({ hour: 7, minute: 4, dayOfWeek: 'thu', date: '2026-12-24', iso: '2026-12-24T07:04:05+09:00' })
  })

  it('leaves geo alone when only the hour is simulated', () => {
    const ctx = applyQaContext(realContext(), parseContext('time.hour=23').entries, AT)
    expect(ctx.geo.city).toBe('Austin')
    expect(ctx.time.iso).toBe('2026-11-22T23:04:05-06:00')
  })

  it('simulates profile claims and behavior even without consent, and request attributes', () => {
    const ctx = applyQaContext(
      realContext(),
      parseContext(
        'profile.tier=gold; profile.vip=true; behavior.views.product=6; behavior.cartAdds=1; request.utm.source=newsletter; request.query.ref=x; request.referrer=https://news.example/a; request.language=de-DE',
      ).entries,
      AT,
    )
    expect(ctx.profile).toEqual({ tier: 'gold', vip: true })
    expect(ctx.behavior).toEqual({ pageViews: 0, cartAdds: 1, purchases: 0, views: { product: 6 } })
    expect(ctx.request).toMatchObject({
      language: 'de-de',
      referrerHost: 'news.example',
      query: { ref: 'x' },
      utm: { source: 'newsletter' },
    })
    expect(ctx.visitor).toBeUndefined()
  })

  it('returns the real context unchanged without simulated attributes', () => {
    const real = realContext()
    expect(applyQaContext(real, new Map(), AT)).toBe(real)
  })
})
