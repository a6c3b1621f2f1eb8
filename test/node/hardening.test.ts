import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publish, SECRETS, startHardeningWorker, type HardeningWorker } from './hardening-harness'

// Issue 10, row by row, against the built Worker over real HTTP. Ports: 9210 (Worker), 9211 (origin).
let w: HardeningWorker

const LONG_SEGMENT = (i: number) => `segment-${'x'.repeat(80)}-${i}`

const RULESET = {
  settings: { originCacheTtl: 60, exclude: ['/excluded/*'] },
  // Many always-true segments: the QA trace lists them all, which is what makes it big.
  segments: Array.from({ length: 1500 }, (_, i) => ({ id: LONG_SEGMENT(i), when: {} })),
  placements: [
    {
      id: 'greet',
      paths: ['/*'],
      selector: '#greeting',
      variants: [{ id: 'hi', ops: [{ op: 'setText', value: 'Personal hello' }] }],
      rules: [{ variant: 'hi' }],
    },
    {
      id: 'link',
      paths: ['/link'],
      selector: '#cta',
      variants: [
        {
          id: 'v',
          ops: [
            { op: 'setAttr', name: 'href', value: '{{request.query.next}}' },
            { op: 'after', value: '<a id="made" href="{{request.query.next}}">go</a>' },
          ],
        },
      ],
      rules: [{ variant: 'v' }],
    },
    {
      id: 'deep',
      paths: ['/*/*/*/*.html'],
      selector: '#who',
      variants: [{ id: 'v', ops: [{ op: 'setText', value: 'deep page' }] }],
      rules: [{ variant: 'v' }],
    },
    {
      id: 'regex',
      paths: ['/regex'],
      selector: '#who',
      variants: [{ id: 'v', ops: [{ op: 'setText', value: 'regex matched' }] }],
      rules: [
        { when: { 'request.query.q': { $regex: '^(aa?)+$' } }, variant: 'v' },
        { when: { 'request.query.r': { $regex: 'a*a*a*a*a*a*b' } }, variant: 'v' },
      ],
    },
  ],
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function get(path: string, headers: Record<string, string> = {}): Promise<{ res: Response; text: string }> {
  const res = await fetch(`${w.url}${path}`, { headers: { 'accept-encoding': 'identity', ...headers }, redirect: 'manual' })
  return { res, text: await res.text() }
}

async function qaToken(): Promise<string> {
  const res = await fetch(`${w.url}/__veneer/api/qa-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttl: '1h' }),
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { token: string }).token
}

/** A condition nested `depth` times, as JSON text (Node's JSON.stringify itself overflows at 10,000). */
function nested(op: '$not' | '$and', depth: number): string {
  const inner = '{"geo.country":"DE"}'
  return op === '$not'
    ? `${'{"$not":'.repeat(depth)}${inner}${'}'.repeat(depth)}`
    : `${'{"$and":['.repeat(depth)}${inner}${']}'.repeat(depth)}`
}

beforeAll(async () => {
  w = await startHardeningWorker(9210, 9211)
  const res = await publish(w, JSON.stringify(RULESET))
  expect(res.status, await res.clone().text()).toBe(200)
  // Warm the isolate, so the origin cache setting is in memory.
  for (let i = 0; i < 20; i++) {
    const { res } = await get('/warm')
    if (res.headers.get('x-veneer') === 'personalized') break
    await sleep(100)
  }
})

afterAll(async () => {
  await w?.close()
})

describe('origin cache (high): a request with credentials never fills the shared copy', () => {
  it('the answer to a request with Authorization is not served to an anonymous visitor', async () => {
    const path = `/account?k=${Date.now()}`
    const first = await get(path, { authorization: 'Bearer alice-secret' })
    expect(first.text).toContain('Hello Bearer alice-secret')
    await sleep(300) // cache.put runs in waitUntil
    const anon = await get(path)
    expect(anon.text).toContain('Hello guest')
    expect(anon.text).not.toContain('alice')
  })

  it('nor the answer to a request with a session cookie of the site (the origin varies on it silently)', async () => {
    const path = `/account?c=${Date.now()}`
    const first = await get(path, { cookie: 'session=bob' })
    expect(first.text).toContain('Hello session bob')
    await sleep(300)
    const anon = await get(path)
    expect(anon.text).toContain('Hello guest')
  })

  it('a cached anonymous copy is not served to a request with credentials either', async () => {
    const path = `/account?a=${Date.now()}`
    await get(path)
    await sleep(300)
    const authed = await get(path, { authorization: 'Bearer carol' })
    expect(authed.text).toContain('Hello Bearer carol')
  })

  it('still caches for visitors who carry only Veneer cookies, and honours private and Vary', async () => {
    const path = `/account?v=${Date.now()}`
    const before = w.log.requests.length
    await get(path, { cookie: 'veneer_consent=p1.a1' })
    await sleep(300)
    await get(path, { cookie: 'veneer_consent=p1.a1' })
    expect(w.log.requests.length - before).toBe(1)
    for (const p of ['/private', '/vary-cookie']) {
      const q = `${p}?v=${Date.now()}`
      const n = w.log.requests.length
      await get(q)
      await sleep(300)
      await get(q)
      expect(w.log.requests.length - n, p).toBe(2)
    }
  })
})

describe('globs and regexes on request input are linear-time (high, medium)', () => {
  it('a path of 2,000 segments against /*/*/*/*.html is answered (backtracking took minutes)', async () => {
    const { res, text } = await get(`${'/a'.repeat(2000)}/x`)
    expect(res.status).toBe(200)
    expect(text).toContain('Hello guest')
    const deep = await get('/a/b/c/page.html')
    expect(deep.text).toContain('deep page')
  }, 15_000)

  it('^(aa?)+$ and a*a*a*a*a*a*b against long query values are answered, with the right verdict', async () => {
    const bomb = await get(`/regex?q=${'a'.repeat(80)}!&r=${'a'.repeat(500)}`)
    expect(bomb.text).toContain('Hello guest')
    expect((await get(`/regex?q=${'a'.repeat(80)}`)).text).toContain('regex matched')
    expect((await get(`/regex?r=${'a'.repeat(30)}b`)).text).toContain('regex matched')
  }, 15_000)
})

describe('placeholders in URLs, scripts, handlers and styles (medium)', () => {
  it('a javascript: value never becomes a link; http(s) and relative values do', async () => {
    for (const next of [
      'javascript:alert(1)',
      ' JaVaScRiPt:alert(1)',
      'java\tscript:alert(1)',
      'data:text/html,x',
      'vbscript:x',
    ]) {
      const { text } = await get(`/link?next=${encodeURIComponent(next)}`)
      for (const [, href] of text.matchAll(/href="([^"]*)"/g)) {
        const letters = (href ?? '').replace(/[^a-z:]/gi, '').toLowerCase()
        expect(letters, next).not.toMatch(/^(javascript|data|vbscript):/)
      }
      expect(text, next).toContain('id="made"')
    }
    expect((await get('/link?next=%2Fsafe%3Fa%3D1')).text).toContain('href="/safe?a=1"')
    expect((await get(`/link?next=${encodeURIComponent('https://ok.example/x')}`)).text).toContain('href="https://ok.example/x"')
    expect((await get(`/link?next=${encodeURIComponent('mailto:a@b.example')}`)).text).toContain('href="mailto:a@b.example"')
  })

  it.each([
    ['setAttr onclick', { op: 'setAttr', name: 'onclick', value: "track('{{request.query.x}}')" }],
    ['setAttr style', { op: 'setAttr', name: 'style', value: 'color: {{request.query.c}}' }],
    ['setAttr srcdoc', { op: 'setAttr', name: 'srcdoc', value: '{{request.query.c}}' }],
    ['on* in HTML', { op: 'append', value: `<b onclick="track('{{request.query.x}}')">x</b>` }],
    ['style attribute in HTML', { op: 'append', value: `<b style="color:{{request.query.x}}">x</b>` }],
    ['<script> in HTML', { op: 'append', value: '<script>var q = "{{request.query.x}}"</script>' }],
    ['<style> in HTML', { op: 'append', value: '<style>.a{color:{{request.query.x}}}</style>' }],
    ['unquoted attribute in HTML', { op: 'append', value: '<a href={{request.query.x}}>x</a>' }],
    ['inside a tag in HTML', { op: 'append', value: '<a {{request.query.x}}>x</a>' }],
  ])('publish refuses a placeholder in %s', async (_name, op) => {
    const doc = {
      placements: [{ id: 'p', paths: ['/*'], selector: '#cta', variants: [{ id: 'v', ops: [op] }], rules: [{ variant: 'v' }] }],
    }
    const res = await publish(w, JSON.stringify(doc))
    expect(res.status).toBe(422)
    const body = (await res.json()) as { error: string; details: { path: string; message: string }[] }
    expect(body.error).toBe('invalid_ruleset')
    expect(body.details[0]?.path).toMatch(/^placements\.0\.variants\.0\.ops\.0/)
  })
})

describe('the admin side (medium, low)', () => {
  it('a 0.9 MB ruleset that pretty-prints past the 2 MiB load cap is stored compact and served', async () => {
    const segments = Array.from({ length: 230 }, (_, i) => ({
      id: `s${i}`,
      when: { 'request.query.n': { $in: Array.from({ length: 1000 }, (_, j) => j) } },
    }))
    const doc = { ...RULESET, segments: [...RULESET.segments.slice(0, 10), ...segments] }
    const text = JSON.stringify(doc)
    expect(text.length).toBeLessThan(1024 * 1024)
    expect(JSON.stringify(doc, null, 2).length).toBeGreaterThan(2 * 1024 * 1024)
    const res = await publish(w, text)
    expect(res.status).toBe(200)
    const stored = await fetch(`${w.url}/__veneer/api/ruleset`, { headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` } })
    const storedText = await stored.text()
    expect(new TextEncoder().encode(storedText).length).toBeLessThan(1024 * 1024)
    let state: string | null = null
    for (let i = 0; i < 30 && state !== 'personalized'; i++) {
      state = (await get('/big')).res.headers.get('x-veneer')
      if (state !== 'personalized') await sleep(200)
    }
    expect(state).toBe('personalized')
    expect((await publish(w, JSON.stringify(RULESET))).status).toBe(200)
  }, 30_000)

  it.each([
    ['$not 10,000 deep', nested('$not', 10_000)],
    ['$and 1,000 deep', nested('$and', 1000)],
  ])('the admin API answers %s with a 400, not a 500', async (_name, when) => {
    const res = await publish(w, `{"segments":[{"id":"deep","when":${when}}]}`)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: string }).error).toBe('too_deep')
  })
})

describe('QA (low)', () => {
  it('control characters in `to` or the token are a 400, not a 500; a tab is no open redirect', async () => {
    const token = await qaToken()
    const crlf = await get(`/__veneer/qa?token=${token}&to=${encodeURIComponent('/a\r\nSet-Cookie: x=1')}`)
    expect(crlf.res.status).toBe(400)
    const badToken = await get(`/__veneer/qa?token=${encodeURIComponent(`${token}\r\n`)}`)
    expect(badToken.res.status).toBeGreaterThanOrEqual(400)
    expect(badToken.res.status).toBeLessThan(500)
    for (const to of ['/\t/evil.example/', '/\\evil.example', '/%09/evil.example', '/\n/evil.example']) {
      const r = await get(`/__veneer/qa?token=${token}&to=${encodeURIComponent(to)}`)
      expect(r.res.status, to).toBeLessThan(500)
      const loc = r.res.headers.get('location')
      if (loc !== null) expect(new URL(loc, w.url).origin, to).toBe(new URL(w.url).origin)
    }
    const ok = await get(`/__veneer/qa?token=${token}&to=${encodeURIComponent('/products?x=1#top')}`)
    expect(ok.res.status).toBe(302)
    expect(ok.res.headers.get('location')).toBe('/products?x=1#top')
  })

  it('a QA token issued in the future is refused', async () => {
    const now = Math.floor(Date.now() / 1000)
    const future = await new SignJWT({ scope: 'qa' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now + 30 * 86_400)
      .setExpirationTime(now + 37 * 86_400 - 60)
      .sign(new TextEncoder().encode(SECRETS.QA_SECRET))
    expect((await get(`/__veneer/qa?token=${future}`)).res.status).toBe(401)
    const page = await get('/', { 'x-veneer-qa': future })
    expect(page.res.headers.get('x-veneer-trace')).toBeNull()
  })

  it('the x-veneer-trace header is bounded', async () => {
    const token = await qaToken()
    const { res } = await get('/', { 'x-veneer-qa': token })
    const trace = res.headers.get('x-veneer-trace')
    expect(trace).not.toBeNull()
    expect((trace ?? '').length).toBeLessThanOrEqual(8192)
    expect(JSON.parse(trace ?? '')).toMatchObject({ truncated: true })
  })

  it("Veneer's own request headers never reach the origin", async () => {
    const before = w.log.requests.length
    await get('/echo', { 'x-veneer-qa': 'x', 'x-veneer-override': 'greet=hi', 'x-veneer-context': 'geo.country=DE' })
    const seen = w.log.requests.slice(before).find((r) => r.path === '/echo')
    expect(seen).toBeDefined()
    expect(Object.keys(seen?.headers ?? {}).filter((h) => h.startsWith('x-veneer'))).toEqual([])
  })
})

describe('events, paths, caching headers (low)', () => {
  const post = (headers: Record<string, string>, body: unknown = { type: 'page_view' }) =>
    fetch(`${w.url}/__veneer/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...headers },
      body: JSON.stringify(body),
    })

  it('POST /__veneer/events needs same-origin: Origin matching or Sec-Fetch-Site: same-origin', async () => {
    expect((await post({ origin: 'https://evil.example' })).status).toBe(403)
    expect((await post({ 'sec-fetch-site': 'same-site' })).status).toBe(403)
    expect((await post({ 'sec-fetch-site': 'cross-site', origin: w.url })).status).toBe(403)
    expect((await post({})).status).toBe(403)
    expect((await post({ origin: w.url })).status).toBe(200)
    expect((await post({ 'sec-fetch-site': 'same-origin' })).status).toBe(200)
  })

  it('negative and absurd event values are refused', async () => {
    expect((await post({ origin: w.url }, { type: 'purchase', value: -5 })).status).toBe(400)
    expect((await post({ origin: w.url }, { type: 'purchase', value: 2e9 })).status).toBe(400)
    expect((await post({ origin: w.url }, { type: 'purchase', value: 49.9 })).status).toBe(200)
  })

  it('settings.exclude is not bypassed with a doubled slash', async () => {
    expect((await get('/excluded/page')).res.headers.get('x-veneer')).toBeNull()
    for (const p of ['//excluded/page', '/excluded//page', '///excluded///page'])
      expect((await get(p)).text, p).toContain('Welcome.')
  })

  it('/__veneer/decisions reports nothing for an excluded path', async () => {
    const res = await fetch(`${w.url}/__veneer/decisions?path=${encodeURIComponent('/excluded/page')}`)
    expect(((await res.json()) as { placements: object }).placements).toEqual({})
    const inc = await fetch(`${w.url}/__veneer/decisions?path=/shop`)
    expect(((await inc.json()) as { placements: object }).placements).toEqual({ greet: 'hi' })
  })

  it('personalized responses carry Vary: Cookie', async () => {
    const { res } = await get('/vary-check')
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect((res.headers.get('vary') ?? '').toLowerCase()).toContain('cookie')
  })

  it('the preference form limit counts the bytes read, not Content-Length', async () => {
    // Just over the 2 KB limit, in chunks and without Content-Length (small enough that the socket
    // takes it all even though the Worker stops reading).
    const big = new TextEncoder().encode(`action=save&pad=${'x'.repeat(3000)}`)
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < big.length; i += 1000) controller.enqueue(big.slice(i, i + 1000))
        controller.close()
      },
    })
    const res = await fetch(`${w.url}/__veneer/preferences`, {
      method: 'POST',
      headers: { origin: w.url, 'content-type': 'application/x-www-form-urlencoded' },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(await res.text()).toContain('too large')
  })
})

describe('the dashboard', () => {
  it('refuses a deeply nested ruleset with a 400, and throttles failed logins', async () => {
    const login = (token: string) =>
      fetch(`${w.url}/__veneer/admin/login`, {
        method: 'POST',
        headers: { origin: w.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
        redirect: 'manual',
      })
    const ok = await login(SECRETS.ADMIN_TOKEN)
    expect(ok.status).toBe(303)
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
    const page = await (await fetch(`${w.url}/__veneer/admin`, { headers: { cookie } })).text()
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? ''
    expect(csrf).not.toBe('')
    const deep = `{"segments":[{"id":"deep","when":${nested('$not', 10_000)}}]}`
    const res = await fetch(`${w.url}/__veneer/admin/publish`, {
      method: 'POST',
      headers: { origin: w.url, cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, ruleset: deep, action: 'validate' }),
    })
    expect(res.status).toBe(400)

    const statuses: number[] = []
    for (let i = 0; i < 12; i++) statuses.push((await login(`wrong-${i}`)).status)
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401])
    expect(statuses.at(-1)).toBe(429)
    // Locked out for a while, even with the right token: that is what stops guessing.
    const locked = await login(SECRETS.ADMIN_TOKEN)
    expect(locked.status).toBe(429)
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})
