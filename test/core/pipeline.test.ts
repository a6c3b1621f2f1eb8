import { describe, expect, it } from 'vitest'
import { chunkedBody, origin, PAGE, ruleset, rulesKv, run, UA } from '../helpers'

const headerList = (h: Headers) => [...h.entries()].sort()

describe('personalized pages', () => {
  it('rewrites a 200 text/html GET and sets the SPEC 8 headers', async () => {
    const kv = await rulesKv(ruleset())
    const o = origin(PAGE, {
      'cache-control': 'public, max-age=60, s-maxage=600',
      'content-length': String(new TextEncoder().encode(PAGE).length),
      etag: '"abc"',
      'set-cookie': 'session=1; Path=/',
      'server-timing': 'db;dur=3',
    })
    const { res, text } = await run('https://shop.example/', { kv, app: { fetchOrigin: o.fetchOrigin } })
    expect(res.status).toBe(200)
    expect(text).toContain('<h1>Hello New York</h1>')
    expect(text).toContain('<p class="sub">Made to last.</p>')
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(res.headers.get('cache-control')).toBe('private, max-age=60')
    expect(res.headers.get('content-length')).toBeNull()
    expect(res.headers.get('etag')).toBeNull()
    // The origin's cookie is kept; Veneer's visitor cookie (opt-out default) comes alongside.
    expect(res.headers.getSetCookie()[0]).toBe('session=1; Path=/')
    expect(res.headers.getSetCookie()[1]).toMatch(/^veneer_visitor=/)
    expect(res.headers.get('server-timing')).toMatch(
      /^db;dur=3, veneer;dur=[\d.]+;desc="personalized", veneer-kv;dur=[\d.]+;desc="kv", veneer-path;dur=0\.0;desc="(guarded|native)"$/,
    )
    expect(o.calls).toHaveLength(1)
  })

  it('leaves the body byte-identical and caching headers alone when no placement matches', async () => {
    // Opt-in: a visitor with no Veneer state and no cookie set for them (SPEC 8).
    const kv = await rulesKv(ruleset({ settings: { consent: { default: 'opt-in', optInCountries: [] } } }))
    const o = origin(PAGE, { 'cache-control': 'public, s-maxage=600', etag: '"abc"' })
    const { res, text } = await run('https://shop.example/', {
      kv,
      app: { fetchOrigin: o.fetchOrigin },
      init: { cf: { country: 'JP', city: 'Tokyo', timezone: 'Asia/Tokyo', continent: 'AS' } },
    })
    expect(text).toBe(PAGE)
    expect(res.headers.get('x-veneer')).toBe('generic')
    expect(res.headers.get('cache-control')).toBe('public, s-maxage=600')
    expect(res.headers.get('etag')).toBe('"abc"')
  })

  it('gives bots the generic page when settings.bots is generic, and personalizes them when asked', async () => {
    const kv = await rulesKv(ruleset())
    const bot = await run('https://shop.example/', { kv, init: { headers: { 'user-agent': UA.googlebot } } })
    expect(bot.text).toBe(PAGE)
    expect(bot.res.headers.get('x-veneer')).toBe('generic')
    const kv2 = await rulesKv(ruleset({ settings: { bots: 'personalize' } }))
    const bot2 = await run('https://shop.example/', { kv: kv2, init: { headers: { 'user-agent': UA.googlebot } } })
    expect(bot2.text).toContain('Hello New York')
  })

  it('only personalizes paths in settings.include and not in settings.exclude', async () => {
    const kv = await rulesKv(ruleset({ settings: { include: ['/shop/*', '/'], exclude: ['/shop/private/*'] } }))
    expect((await run('https://shop.example/shop/a', { kv })).text).toContain('Hello New York')
    const excluded = await run('https://shop.example/shop/private/a', { kv })
    expect(excluded.text).toBe(PAGE)
    expect(excluded.res.headers.get('x-veneer')).toBeNull()
    expect((await run('https://shop.example/elsewhere', { kv })).res.headers.get('x-veneer')).toBeNull()
  })

  it('matches placements by path glob and decodes the path first', async () => {
    const kv = await rulesKv(
      ruleset({
        placements: [
          {
            id: 'hero',
            paths: ['/café/*'],
            selector: '#hero h1',
            variants: [{ id: 'v', ops: [{ op: 'setText', value: 'Bonjour' }] }],
            rules: [{ variant: 'v' }],
          },
        ],
      }),
    )
    expect((await run('https://shop.example/caf%C3%A9/menu', { kv })).text).toContain('<h1>Bonjour</h1>')
    expect((await run('https://shop.example/cafe/menu', { kv })).text).toBe(PAGE)
  })
})

describe('pass-through, byte for byte with headers untouched', () => {
  const cases: [string, () => Response, RequestInit?][] = [
    [
      'non-HTML',
      () => new Response('{"a":1}', { headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=5' } }),
    ],
    ['CSS', () => new Response('h1{color:red}', { headers: { 'content-type': 'text/css' } })],
    ['404 HTML', () => new Response(PAGE, { status: 404, headers: { 'content-type': 'text/html' } })],
    ['500 HTML', () => new Response(PAGE, { status: 500, headers: { 'content-type': 'text/html' } })],
    ['304', () => new Response(null, { status: 304, headers: { etag: '"abc"' } })],
    ['redirect', () => new Response(null, { status: 302, headers: { location: '/elsewhere', 'set-cookie': 'a=1' } })],
    [
      '206 range',
      () =>
        new Response(PAGE.slice(0, 10), {
          status: 206,
          headers: { 'content-type': 'text/html', 'content-range': `bytes 0-9/${PAGE.length}` },
        }),
      { headers: { range: 'bytes=0-9' } },
    ],
    [
      'HEAD',
      () => new Response(null, { headers: { 'content-type': 'text/html', 'content-length': '1234', 'cache-control': 'public' } }),
      { method: 'HEAD' },
    ],
    ['POST', () => new Response(PAGE, { headers: { 'content-type': 'text/html' } }), { method: 'POST', body: 'a=1' }],
    [
      'UTF-16 HTML',
      () => new Response(new Uint8Array([0xff, 0xfe, 0x3c, 0x00]), { headers: { 'content-type': 'text/html; charset=utf-16' } }),
    ],
  ]
  it.each(cases)('%s', async (_name, make, init) => {
    const kv = await rulesKv(
      ruleset({
        placements: [
          {
            id: 'all',
            paths: ['/*'],
            selector: 'h1',
            variants: [{ id: 'v', ops: [{ op: 'setText', value: 'X' }] }],
            rules: [{ variant: 'v' }],
          },
        ],
      }),
    )
    const expected = make()
    const expectedBody = new Uint8Array(await expected.clone().arrayBuffer())
    const o = origin(() => make())
    const { res, bytes } = await run('https://shop.example/page', { kv, app: { fetchOrigin: o.fetchOrigin }, init })
    expect(res.status).toBe(expected.status)
    expect(headerList(res.headers)).toEqual(headerList(expected.headers))
    expect(bytes).toEqual(init?.method === 'HEAD' ? new Uint8Array() : expectedBody)
    expect(o.calls).toHaveLength(1)
  })
})

describe('fail open', () => {
  it('serves the origin page unchanged when the pipeline itself throws', async () => {
    const kv = await rulesKv(ruleset())
    const o = origin(PAGE, { 'content-length': '10000' })
    const { res, text } = await run('https://shop.example/', {
      kv,
      app: { fetchOrigin: o.fetchOrigin, now: () => new Date(Number.NaN) },
    })
    expect(res.status).toBe(200)
    expect(text).toBe(PAGE)
    expect(res.headers.get('x-veneer')).toBeNull()
    expect(o.calls).toHaveLength(1)
  })

  it('answers 502 (not an exception) when the origin cannot be reached', async () => {
    const kv = await rulesKv(ruleset())
    const { res } = await run('https://shop.example/', {
      kv,
      app: {
        fetchOrigin: async () => {
          throw new TypeError('connect ECONNREFUSED')
        },
      },
    })
    expect(res.status).toBe(502)
  })
})

describe('streaming', () => {
  it('chunk boundaries inside tags and placeholders do not change the result', async () => {
    const kv = await rulesKv(
      ruleset({
        placements: [
          {
            id: 'hero',
            paths: ['/*'],
            selector: '#hero h1',
            variants: [
              {
                id: 'v',
                ops: [
                  { op: 'setHtml', value: 'Hi <b>{{geo.city}}</b>' },
                  { op: 'addClass', value: 'big', selector: '#promo' },
                  { op: 'setAttr', name: 'href', value: '/p?c={{geo.country}}', selector: 'a#cta' },
                ],
              },
            ],
            rules: [{ variant: 'v' }],
          },
        ],
      }),
    )
    const whole = await run('https://shop.example/', { kv })
    for (const size of [1, 3, 7, 64]) {
      const o = origin(() => new Response(chunkedBody(PAGE, size), { headers: { 'content-type': 'text/html' } }))
      const chunked = await run('https://shop.example/', { kv, app: { fetchOrigin: o.fetchOrigin } })
      expect(chunked.text).toBe(whole.text)
    }
    expect(whole.text).toContain('<h1>Hi <b>New York</b></h1>')
    expect(whole.text).toContain('<div id="promo" class="bar big">')
    expect(whole.text).toContain('href="/p?c=US"')
  })

  it('sends the first bytes before a slow origin has finished', async () => {
    const kv = await rulesKv(ruleset())
    const big = PAGE.replace('</body>', `${'<p>filler</p>'.repeat(400)}</body>`)
    const o = origin(() => new Response(chunkedBody(big, 512, 40), { headers: { 'content-type': 'text/html' } }))
    const started = Date.now()
    const { createApp } = await import('../../src/app')
    const { env } = await import('cloudflare:workers')
    const app = createApp({ fetchOrigin: o.fetchOrigin })
    const res = await app.request(
      'https://shop.example/',
      { cf: { country: 'US', city: 'Austin', timezone: 'America/Chicago' } } as RequestInit,
      { ...env, ORIGIN_URL: 'https://o', RULES: kv },
    )
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    const firstAt = Date.now() - started
    let rest = ''
    const dec = new TextDecoder()
    rest += dec.decode(first.value, { stream: true })
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      rest += dec.decode(value, { stream: true })
    }
    const total = Date.now() - started
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(rest).toContain('Hello Austin')
    expect(total).toBeGreaterThan(400) // 13 chunks × 40 ms
    expect(firstAt).toBeLessThan(total / 3)
  })
})
