import { describe, expect, it } from 'vitest'
import { isAnonymousRequest, isSharedCacheable } from '../../src/pipeline/origin-cache'
import { origin, PAGE, ruleset, rulesKv, run } from '../helpers'

describe('settings.originCacheTtl: generic origin HTML cached at the edge (SPEC 8)', () => {
  it('stores a cacheable page once and personalizes every request on top of it', async () => {
    const kv = await rulesKv(ruleset({ settings: { originCacheTtl: 60 } }))
    const o = origin(PAGE, { 'cache-control': 'public, max-age=300' })
    const url = `https://shop.example/cached-${crypto.randomUUID()}`
    const results = []
    for (let i = 0; i < 4; i++)
      // Only Veneer's own cookies: a site cookie or Authorization bypasses the cache (issue 10).
      results.push(
        await run(url, {
          kv,
          app: { fetchOrigin: o.fetchOrigin },
          init: { headers: { cookie: `veneer_consent=none; veneer_qa=${i}` } },
        }),
      )
    // The first request warms the ruleset (a cold isolate does not wait for the setting), the
    // second stores the page, the others are served from the edge cache.
    expect(o.calls).toHaveLength(2)
    for (const r of results) {
      expect(r.text).toContain('<h1>Hello New York</h1>')
      expect(r.res.headers.get('x-veneer')).toBe('personalized')
    }
  })

  it('never stores what the origin does not mark shared-cacheable', async () => {
    const kv = await rulesKv(ruleset({ settings: { originCacheTtl: 60 } }))
    const o = origin(PAGE, { 'cache-control': 'public, max-age=300', 'set-cookie': 'cart=1' })
    const url = `https://shop.example/cookie-${crypto.randomUUID()}`
    for (let i = 0; i < 3; i++) await run(url, { kv, app: { fetchOrigin: o.fetchOrigin } })
    expect(o.calls).toHaveLength(3)
  })

  it('is off by default', async () => {
    const kv = await rulesKv(ruleset())
    const o = origin(PAGE, { 'cache-control': 'public, max-age=300' })
    const url = `https://shop.example/off-${crypto.randomUUID()}`
    for (let i = 0; i < 3; i++) await run(url, { kv, app: { fetchOrigin: o.fetchOrigin } })
    expect(o.calls).toHaveLength(3)
  })

  it.each<[string, Record<string, string>, number, boolean]>([
    ['public', { 'content-type': 'text/html', 'cache-control': 'public' }, 200, true],
    ['s-maxage', { 'content-type': 'text/html', 'cache-control': 's-maxage=60' }, 200, true],
    ['no cache-control', { 'content-type': 'text/html' }, 200, false],
    ['private', { 'content-type': 'text/html', 'cache-control': 'private, max-age=60' }, 200, false],
    ['no-store', { 'content-type': 'text/html', 'cache-control': 'public, no-store' }, 200, false],
    ['vary cookie', { 'content-type': 'text/html', 'cache-control': 'public', vary: 'Cookie' }, 200, false],
    ['vary accept-encoding', { 'content-type': 'text/html', 'cache-control': 'public', vary: 'Accept-Encoding' }, 200, true],
    ['404', { 'content-type': 'text/html', 'cache-control': 'public' }, 404, false],
    ['json', { 'content-type': 'application/json', 'cache-control': 'public' }, 200, false],
    ['max-age=0', { 'content-type': 'text/html', 'cache-control': 'public, max-age=0' }, 200, false],
    ['s-maxage=0', { 'content-type': 'text/html', 'cache-control': 's-maxage=0, max-age=60' }, 200, false],
    ['vary *', { 'content-type': 'text/html', 'cache-control': 'public', vary: '*' }, 200, false],
  ])('cacheable? %s', (_n, headers, status, expected) => {
    expect(isSharedCacheable(new Response('x', { status, headers }))).toBe(expected)
  })

  it.each<[string, Record<string, string>, boolean]>([
    ['no credentials', {}, true],
    ["only Veneer's cookies", { cookie: 'veneer_consent=none; veneer_visitor=x; veneer_profile=y; veneer_qa=z' }, true],
    ['Authorization', { authorization: 'Bearer t' }, false],
    ['a site session cookie', { cookie: 'veneer_consent=none; session=abc' }, false],
    ['a cookie without a value', { cookie: 'flag' }, false],
  ])('may share the anonymous copy? %s', (_n, headers, expected) => {
    expect(isAnonymousRequest(new Request('https://shop.example/', { headers }))).toBe(expected)
  })
})
