import { describe, expect, it } from 'vitest'
import { contextualContext } from '../../src/context/build'
import { deviceFromHeaders } from '../../src/context/device'
import { geoFromCf } from '../../src/context/geo'
import { primaryLanguage } from '../../src/context/request'
import { localTime } from '../../src/context/time'
import { CF, UA } from '../helpers'

describe('geo from request.cf', () => {
  it('maps every SPEC 4.2 attribute', () => {
    expect(geoFromCf(CF.berlin)).toEqual({
      country: 'DE',
      region: 'Berlin',
      regionCode: 'BE',
      city: 'Berlin',
      continent: 'EU',
      postalCode: '10115',
      timezone: 'Europe/Berlin',
      isEU: true,
      latitude: 52.52,
      longitude: 13.4,
    })
    expect(geoFromCf(CF.newYork).isEU).toBe(false)
  })
  it('derives isEU from the country when cf lacks the flag, and tolerates no cf at all', () => {
    expect(geoFromCf({ country: 'fr' })).toMatchObject({ country: 'FR', isEU: true })
    expect(geoFromCf(undefined)).toEqual({})
    expect(geoFromCf({ country: 42, latitude: 'north' })).toMatchObject({ country: undefined, latitude: undefined })
  })
})

describe('device: Client Hints first, then User-Agent', () => {
  const h = (o: Record<string, string>) => new Headers(o)
  it('reads Sec-CH-UA-Mobile and Sec-CH-UA-Platform', () => {
    expect(
      deviceFromHeaders(
        h({
          'sec-ch-ua-mobile': '?1',
          'sec-ch-ua-platform': '"Android"',
          'sec-ch-ua': '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
          'user-agent': UA.desktopChrome,
        }),
      ),
    ).toEqual({ type: 'mobile', os: 'android', browser: 'chrome', isBot: false })
    // Hints say "not mobile": desktop, even though this UA string would say otherwise.
    expect(
      deviceFromHeaders(h({ 'sec-ch-ua-mobile': '?0', 'sec-ch-ua-platform': '"Windows"', 'user-agent': UA.iphone })).type,
    ).toBe('desktop')
  })
  it('falls back to the User-Agent', () => {
    expect(deviceFromHeaders(h({ 'user-agent': UA.iphone }))).toEqual({
      type: 'mobile',
      os: 'ios',
      browser: 'safari',
      isBot: false,
    })
    expect(deviceFromHeaders(h({ 'user-agent': UA.ipad })).type).toBe('tablet')
    expect(deviceFromHeaders(h({ 'user-agent': UA.desktopChrome }))).toEqual({
      type: 'desktop',
      os: 'windows',
      browser: 'chrome',
      isBot: false,
    })
    expect(deviceFromHeaders(h({})).type).toBe('desktop')
  })
  it('recognises crawlers as bots', () => {
    expect(deviceFromHeaders(h({ 'user-agent': UA.googlebot }))).toMatchObject({ type: 'bot', isBot: true })
  })
  it('survives malformed hints', () => {
    for (const junk of ['', '"', ',,,', '"unterminated', 'x'.repeat(5000), '"Brand";v=,;;"', 'ü"Ω"']) {
      const d = deviceFromHeaders(h({ 'sec-ch-ua': junk, 'sec-ch-ua-platform': junk, 'sec-ch-ua-mobile': junk }))
      expect(['mobile', 'tablet', 'desktop']).toContain(d.type)
    }
  })
})

describe('local time in the visitor timezone', () => {
  const at = new Date('2026-11-22T19:05:30Z') // a Sunday
  it('Berlin is UTC+1 in November', () => {
    expect(localTime(at, 'Europe/Berlin')).toEqual({
      hour: 20,
      minute: 5,
      dayOfWeek: 'sun',
      date: '2026-11-22',
      iso: '2026-11-22T20:05:30+01:00',
    })
  })
  it('crosses the date line', () => {
    expect(localTime(at, 'Asia/Tokyo')).toMatchObject({
      hour: 4,
      dayOfWeek: 'mon',
      date: '2026-11-23',
      iso: '2026-11-23T04:05:30+09:00',
    })
    expect(localTime(at, 'America/New_York')).toMatchObject({ hour: 14, dayOfWeek: 'sun', iso: '2026-11-22T14:05:30-05:00' })
  })
  it('uses UTC without a timezone or with an unknown one', () => {
    expect(localTime(at, undefined)).toMatchObject({ hour: 19, iso: '2026-11-22T19:05:30Z' })
    expect(localTime(at, 'Mars/Olympus_Mons')).toMatchObject({ hour: 19, dayOfWeek: 'sun' })
  })
})

describe('request attributes', () => {
  it('path, host, query, language, referrer and UTM', () => {
    const req = new Request(
      'https://shop.example/caf%C3%A9/menu?utm_source=newsletter&utm_medium=email&utm_campaign=nov&ref=x&ref=y',
      {
        headers: { 'accept-language': 'fr-CH;q=0.8, de-DE, en;q=0.5', referer: 'https://news.example.com/story' },
        cf: CF.berlin,
      } as RequestInit,
    )
    const c = contextualContext(req, new Date('2026-11-22T12:00:00Z'))
    expect(c.request).toEqual({
      path: '/café/menu',
      host: 'shop.example',
      query: { utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'nov', ref: 'x' },
      language: 'de-de',
      referrer: 'https://news.example.com/story',
      referrerHost: 'news.example.com',
      utm: { source: 'newsletter', medium: 'email', campaign: 'nov', term: undefined, content: undefined },
    })
    expect(c.time.hour).toBe(13)
    expect(c.geo.city).toBe('Berlin')
  })
  it('tolerates malformed escapes, referrers and language headers', () => {
    const req = new Request('https://shop.example/%E0%A4%A', {
      headers: { referer: 'not a url', 'accept-language': ';;;,*;q=x' },
    })
    const c = contextualContext(req)
    expect(c.request.path).toBe('/%E0%A4%A')
    expect(c.request.referrerHost).toBeUndefined()
    expect(primaryLanguage('*')).toBeUndefined()
  })
})
