import { env } from 'cloudflare:workers'
import { SELF } from 'cloudflare:test'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import demo from '../../demo/ruleset.json'
import type { Env } from '../../src/env'
import { personalize, veneerEndpoints } from '../../src/index'
import { originRequest } from '../../src/pipeline/origin'
import { RULESET_KEY } from '../../src/rules/store'
import { CF, PAGE, ruleset, rulesKv, run, UA } from '../helpers'

describe('proxy to ORIGIN_URL', () => {
  it('keeps method, headers, body, path and query; leaves redirects to the browser', async () => {
    const incoming = new Request('https://shop.example/cart/add?id=7&q=a%20b', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: 'a=1',
        'x-custom': 'yes',
        connection: 'keep-alive',
      },
      body: 'qty=2',
    })
    const out = originRequest(incoming, 'https://origin.example:8443/base/')
    expect(out.url).toBe('https://origin.example:8443/base/cart/add?id=7&q=a%20b')
    expect(out.method).toBe('POST')
    expect(out.redirect).toBe('manual')
    expect(out.headers.get('cookie')).toBe('a=1')
    expect(out.headers.get('x-custom')).toBe('yes')
    expect(out.headers.get('connection')).toBeNull()
    expect(out.headers.get('x-forwarded-host')).toBe('shop.example')
    expect(out.headers.get('accept-encoding')).toBe('gzip, br')
    expect(await out.text()).toBe('qty=2')
  })

  it('passes the origin redirect, status and Set-Cookie through the Worker', async () => {
    const seen: Request[] = []
    const { res } = await run('https://shop.example/old', {
      kv: await rulesKv(ruleset()),
      app: {
        fetchOrigin: async (r) => {
          seen.push(r)
          return new Response(null, { status: 301, headers: { location: 'https://shop.example/new', 'set-cookie': 'x=1' } })
        },
      },
      env: { ORIGIN_URL: 'https://origin.example' },
    })
    expect(res.status).toBe(301)
    expect(res.headers.get('location')).toBe('https://shop.example/new')
    expect(res.headers.getSetCookie()).toEqual(['x=1'])
    expect(seen[0]?.url).toBe('https://origin.example/old')
  })
})

describe('the bundled demo shop as origin (ASSETS, ORIGIN_URL unset)', () => {
  async function page(path: string, init: RequestInit & { cf?: object } = {}) {
    await (env as unknown as Env).RULES?.put(RULESET_KEY, JSON.stringify(demo))
    const res = await SELF.fetch(`http://localhost:8787${path}`, init)
    return { res, text: await res.text() }
  }

  it('personalizes the home page by country, device and time of day', async () => {
    const { res, text } = await page('/', { headers: { 'user-agent': UA.iphone }, cf: CF.berlin })
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(text).toContain('Willkommen in Berlin!')
    expect(text).toContain('Shopping on your phone?')
    expect(text).toMatch(/<p id="greeting">(Good (morning|afternoon|evening)|Late-night)/)
  })

  it('serves assets untouched and 404s as the origin does', async () => {
    const css = await page('/assets/shop.css')
    expect(css.res.headers.get('x-veneer')).toBeNull()
    expect(css.text).toContain('#hero')
    const missing = await page('/nope')
    expect(missing.res.headers.get('x-veneer')).toBeNull()
  })

  it('GET /__veneer/health answers { ok, rulesetVersion }', async () => {
    const { res, text } = await page('/__veneer/health')
    expect(res.status).toBe(200)
    expect(JSON.parse(text)).toMatchObject({ ok: true, rulesetVersion: expect.any(String) })
  })

  it('unknown Veneer endpoints are a JSON 404, never the origin', async () => {
    const { res, text } = await page('/__veneer/nothing-here')
    expect(res.status).toBe(404)
    expect(JSON.parse(text)).toMatchObject({ error: 'not_found' })
  })
})

describe("as middleware in someone else's Hono app", () => {
  it("personalizes the downstream handler's HTML and leaves its other routes alone", async () => {
    const kv = await rulesKv(ruleset())
    let calls = 0
    const app = new Hono<{ Bindings: Env }>()
    app.use('*', personalize())
    app.get('/api/data', (c) => c.json({ ok: true }))
    app.get('*', (c) => {
      calls++
      return c.html(PAGE)
    })
    const e = { ...(env as unknown as Env), RULES: kv }
    const res = await app.request('/', { cf: CF.newYork } as RequestInit, e)
    expect(await res.text()).toContain('<h1>Hello New York</h1>')
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(calls).toBe(1)
    const api = await app.request('/api/data', {}, e)
    expect(await api.json()).toEqual({ ok: true })
    expect(api.headers.get('x-veneer')).toBeNull()
  })

  it("mounts Veneer's own endpoints next to the host app's routes", async () => {
    const kv = await rulesKv(ruleset())
    const app = new Hono<{ Bindings: Env }>()
    app.route('/__veneer', veneerEndpoints())
    app.use('*', personalize())
    app.get('*', (c) => c.html(PAGE))
    const e = { ...(env as unknown as Env), RULES: kv }
    const health = await app.request('/__veneer/health', {}, e)
    expect(await health.json()).toMatchObject({ ok: true, rulesetVersion: 't1' })
    const js = await app.request('/__veneer/client.js', {}, e)
    expect(await js.text()).toContain('veneer')
    expect((await app.request('/__veneer/nope', {}, e)).status).toBe(404)
    expect(await (await app.request('/', { cf: CF.newYork } as RequestInit, e)).text()).toContain('Hello New York')
  })

  it('rejects a nonsensical option at construction, not per request', () => {
    expect(() => personalize({ budgetMs: 0 })).toThrow(/budgetMs/)
  })
})
