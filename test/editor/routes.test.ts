import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { DRAFT_KEY } from '../../src/editor/draft'
import { api, BASE, clearRules, demoRuleset, testEnv, TOKEN } from '../admin/helpers'

const app = createApp()
const EDITOR = `${BASE}/__veneer/admin/editor`

beforeEach(async () => {
  await clearRules()
  expect((await api('PUT', '/ruleset', demoRuleset())).status).toBe(200)
})

function get(url: string, cookie?: string) {
  return app.request(url, { headers: cookie === undefined ? {} : { cookie } }, testEnv)
}

function post(path: string, fields: Record<string, string>, cookie: string, headers: Record<string, string> = { origin: BASE }) {
  return app.request(
    `${EDITOR}${path}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
      body: new URLSearchParams(fields).toString(),
    },
    testEnv,
  )
}

async function login(): Promise<{ cookie: string; csrf: string }> {
  const res = await app.request(
    `${BASE}/__veneer/admin/login`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: BASE },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    },
    testEnv,
  )
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  const page = await (await get(`${EDITOR}?path=/`, cookie)).text()
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? ''
  expect(csrf.length).toBeGreaterThan(16)
  return { cookie, csrf }
}

const CHANGE = {
  path: '/',
  selector: 'h1',
  op: 'setText',
  value: 'Hallo <b>{{geo.city}}</b>',
  placement: 'home-hero',
  variant: 'editor-de',
  audience: 'segment:germany',
}

describe('the editor routes', () => {
  it('answer 401 without a session, and show the editor with a nonce and no framing with one', async () => {
    for (const url of [`${EDITOR}?path=/`, `${EDITOR}/frame?path=/`]) {
      const res = await get(url)
      expect(res.status).toBe(401)
      expect(res.headers.get('x-frame-options')).toBe('DENY')
      const body = await res.text()
      expect(body).not.toContain('Everyday gear')
      if (!url.includes('/frame')) expect(body).toContain('name="token"') // the login form
    }
    const { cookie } = await login()
    const res = await get(`${EDITOR}?path=/`, cookie)
    expect(res.status).toBe(200)
    const csp = res.headers.get('content-security-policy') ?? ''
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1]
    expect(nonce).toBeDefined()
    expect(csp).toContain("frame-ancestors 'none'")
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    const html = await res.text()
    expect(html).toContain(`<script nonce="${nonce}">`)
    expect(html).toContain('src="/__veneer/admin/editor/frame?path=%2F&amp;view=draft"')
  })

  it('frames the page through Veneer for a simulated visitor, with a fresh nonce, the picker, and no site scripts', async () => {
    const { cookie } = await login()
    const res = await get(`${EDITOR}/frame?path=/&country=DE&city=Berlin&device=mobile&hour=21`, cookie)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("frame-ancestors 'self'")
    const nonce = /script-src 'nonce-([^']+)';/.exec(csp)?.[1] ?? ''
    expect(nonce.length).toBeGreaterThan(16)
    expect(res.headers.get('set-cookie')).toBeNull() // neither a visitor nor an exposure
    const trace = JSON.parse(res.headers.get('x-veneer-trace') ?? '{}')
    expect(trace.simulated).toEqual({
      'geo.country': 'DE',
      'geo.timezone': 'Europe/Berlin',
      'geo.city': 'Berlin',
      'device.type': 'mobile',
      'time.hour': 21,
    })
    const html = await res.text()
    expect(html).toContain('Willkommen in Berlin!')
    expect(html).toContain('Shopping on your phone?') // promo-bar, mobile
    expect(html).toContain(`<script nonce="${nonce}">`)
    expect(html).toContain('veneer:selected')
    // The site's own scripts are in the page but the CSP lets only the nonce'd one run.
    expect(html).toContain('<script src="/assets/shop.js" defer></script>')
    const again = await get(`${EDITOR}/frame?path=/`, cookie)
    expect(again.headers.get('content-security-policy')).not.toContain(nonce)
  })

  it('refuses a frame of Veneer itself or another host', async () => {
    const { cookie } = await login()
    for (const path of ['/__veneer/admin', '//evil.example/', 'https://evil.example/']) {
      const res = await get(`${EDITOR}/frame?path=${encodeURIComponent(path)}`, cookie)
      const html = await res.text()
      expect(html).toContain('Everyday gear') // it fell back to the home page
    }
  })

  it('answers a draft over the load cap with 413 and its reason, keeping the draft and the active version', async () => {
    const { cookie, csrf } = await login()
    const doc = demoRuleset() as { segments: unknown[] }
    const big = {
      ...doc,
      segments: [
        ...doc.segments,
        ...Array.from({ length: 2500 }, (_, i) => ({
          id: `pad-${i}`,
          description: 'p'.repeat(900),
          when: { 'geo.country': 'ZZ' },
        })),
      ],
    }
    const draft = { base: 'v1', text: JSON.stringify(big), edits: ['padding'], savedAt: new Date().toISOString() }
    await testEnv.RULES!.put(DRAFT_KEY, JSON.stringify(draft))
    const before = await (await api('GET', '/ruleset/versions')).text()
    const res = await post('/publish', { csrf, path: '/' }, cookie)
    expect(res.status).toBe(413)
    expect(await res.text()).toContain('over the')
    expect(await testEnv.RULES!.get(DRAFT_KEY)).not.toBeNull()
    expect(await (await api('GET', '/ruleset/versions')).text()).toBe(before)
  })

  it('saves a change to a draft, which visitors do not see until it is published with history', async () => {
    const { cookie, csrf } = await login()
    const saved = await post('/save', { ...CHANGE, csrf }, cookie)
    expect(saved.status).toBe(303)
    expect(saved.headers.get('location')).toBe('/__veneer/admin/editor?path=%2F&saved=editor-de')
    expect(await testEnv.RULES!.get(DRAFT_KEY, 'text')).toContain('editor-de')

    // The draft shows in the editor's preview, the active ruleset stays what visitors get.
    const page = await (await get(`${EDITOR}?path=/`, cookie)).text()
    expect(page).toContain('home-hero: new variant editor-de (setText on h1) for segment germany')
    expect(page).toContain('The draft validates.')
    const preview = await (await get(`${EDITOR}/frame?path=/&country=DE&city=K%C3%B6ln`, cookie)).text()
    expect(preview).toContain('<h1>Hallo &lt;b&gt;Köln&lt;/b&gt;</h1>') // setText: escaped, placeholder filled
    const active = await (await get(`${EDITOR}/frame?path=/&country=DE&city=K%C3%B6ln&view=active`, cookie)).text()
    expect(active).toContain('Willkommen in Köln!')

    const published = await post('/publish', { csrf, path: '/' }, cookie)
    expect(published.status).toBe(303)
    expect(published.headers.get('location')).toMatch(/published=v2-/)
    expect(await testEnv.RULES!.get(DRAFT_KEY)).toBeNull()
    const doc = (await (await api('GET', '/ruleset')).json()) as any
    expect(doc.placements[0].rules[0]).toEqual({ segment: 'germany', variant: 'editor-de' })
    const versions = (await (await api('GET', '/ruleset/versions')).json()) as any
    expect(versions.versions).toHaveLength(2)
    expect(versions.versions[0].note).toContain('editor: home-hero: new variant editor-de')
    // The usual rollback undoes it.
    expect((await api('POST', '/ruleset/rollback', { version: versions.versions[1].version })).status).toBe(200)
    expect(JSON.stringify(await (await api('GET', '/ruleset')).json())).not.toContain('editor-de')
  })

  it('refuses a save that is cross-site, without the CSRF token, or with a selector HTMLRewriter matches more than once', async () => {
    const { cookie, csrf } = await login()
    expect((await post('/save', { ...CHANGE, csrf }, cookie, { origin: 'https://evil.example' })).status).toBe(403)
    expect((await post('/save', { ...CHANGE, csrf: 'x'.repeat(24) }, cookie)).status).toBe(403)
    const many = await post('/save', { ...CHANGE, csrf, selector: 'h3' }, cookie)
    expect(many.status).toBe(422)
    expect(await many.text()).toContain('h3 matches 3 elements of / for HTMLRewriter, not one.')
    const none = await post('/save', { ...CHANGE, csrf, selector: '#nothing-here' }, cookie)
    expect(none.status).toBe(422)
    expect(await none.text()).toContain('HTMLRewriter finds nothing matching #nothing-here')
    const unknown = await post('/save', { ...CHANGE, csrf, audience: 'segment:martians' }, cookie)
    expect(unknown.status).toBe(422)
    expect(await testEnv.RULES!.get(DRAFT_KEY)).toBeNull()
    // Without a session: the login page, nothing saved.
    expect((await post('/save', { ...CHANGE, csrf }, '')).status).toBe(401)
  })

  it('starts from nothing on a site without a ruleset: the page as the origin sends it, then a first placement', async () => {
    await clearRules()
    const { cookie, csrf } = await login()
    const frame = await get(`${EDITOR}/frame?path=/`, cookie)
    expect(frame.status).toBe(200)
    const html = await frame.text()
    expect(html).toContain('<h1>Everyday gear, made to last.</h1>')
    expect(html).toContain('veneer:selected')
    const saved = await post(
      '/save',
      { ...CHANGE, csrf, placement: '__new', newPlacement: 'hero', audience: 'everyone', value: 'Hello' },
      cookie,
    )
    expect(saved.status).toBe(303)
    expect((await post('/publish', { csrf, path: '/' }, cookie)).headers.get('location')).toMatch(/published=v1-/)
    const doc = (await (await api('GET', '/ruleset')).json()) as { placements: unknown[] }
    expect(doc.placements).toEqual([
      {
        id: 'hero',
        paths: ['/'],
        selector: 'h1',
        variants: [{ id: 'editor-de', ops: [{ op: 'setText', value: 'Hello' }] }],
        rules: [{ variant: 'editor-de' }],
      },
    ])
  })

  it('warns when the active ruleset changed after the draft was started', async () => {
    const { cookie, csrf } = await login()
    await post('/save', { ...CHANGE, csrf }, cookie)
    expect(await (await get(`${EDITOR}?path=/`, cookie)).text()).not.toContain('data-testid="draft-stale"')
    expect((await api('PUT', '/ruleset', demoRuleset())).status).toBe(200) // someone publishes meanwhile
    const page = await (await get(`${EDITOR}?path=/`, cookie)).text()
    expect(page).toContain('data-testid="draft-stale"')
    expect(page).toMatch(/draft based on v1-\d{8}T\d{6}Z, active v2-/)
  })

  it('discards a draft', async () => {
    const { cookie, csrf } = await login()
    await post('/save', { ...CHANGE, csrf }, cookie)
    const res = await post('/discard', { csrf, path: '/' }, cookie)
    expect(res.status).toBe(303)
    expect(await testEnv.RULES!.get(DRAFT_KEY)).toBeNull()
  })
})

describe('frame-blocking headers', () => {
  it('only the framed editor page may be framed, and only by its own origin', async () => {
    const { cookie } = await login()
    const token = (await (await api('POST', '/qa-token', { ttl: '1h' })).json()) as { token: string }
    const routes = [
      '/__veneer/admin',
      '/__veneer/admin/editor?path=/',
      '/__veneer/qa',
      `/__veneer/qa?token=${token.token}`,
      '/__veneer/preferences',
      '/__veneer/health',
      '/__veneer/nope',
    ]
    for (const path of routes) {
      for (const c of [undefined, cookie]) {
        const res = await get(`${BASE}${path}`, c)
        await res.arrayBuffer()
        const xfo = res.headers.get('x-frame-options')
        const csp = res.headers.get('content-security-policy') ?? ''
        expect(xfo === null || xfo === 'DENY', `${path} x-frame-options ${xfo}`).toBe(true)
        expect(csp.includes('frame-ancestors') && !csp.includes("frame-ancestors 'none'"), `${path} csp ${csp}`).toBe(false)
      }
    }
    const frame = await get(`${EDITOR}/frame?path=/`, cookie)
    await frame.arrayBuffer()
    expect(frame.headers.get('x-frame-options')).toBe('SAMEORIGIN')
  })

  it("keeps the origin's own frame-blocking headers on personalized pages, in QA mode too", async () => {
    const origin = async () =>
      new Response('<!doctype html><html><body><section id="hero"><h1>Hi</h1></section></body></html>', {
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'x-frame-options': 'DENY',
          'content-security-policy': "frame-ancestors 'none'",
        },
      })
    const proxied = createApp({ fetchOrigin: origin })
    const env = { ...testEnv, ORIGIN_URL: 'https://origin.example' }
    const token = (await (await api('POST', '/qa-token', { ttl: '1h' })).json()) as { token: string }
    const cases: Record<string, string>[] = [
      {},
      { 'x-veneer-qa': token.token, 'x-veneer-context': 'geo.country=DE' },
      { cookie: `veneer_qa=${token.token}` },
    ]
    for (const headers of cases) {
      const res = await proxied.request(`${BASE}/`, { headers: { 'accept-encoding': 'identity', ...headers } }, env)
      const body = await res.text()
      expect(res.headers.get('x-frame-options')).toBe('DENY')
      expect(res.headers.get('content-security-policy')).toBe("frame-ancestors 'none'")
      expect(body).not.toContain('veneer:selected') // the picker never reaches a visitor
    }
  })
})
