import { describe, expect, it } from 'vitest'
import { clearCookie, isPlainHttpLocalhost, readCookie, setCookie } from '../../src/http/cookies'
import { isSameOrigin, localPath } from '../../src/http/origin'
import { readBodyBytes } from '../../src/http/body'
import { parseKeyringSpec } from '../../src/identity/keys'
import { measurementKey } from '../../src/measure/hash'
import { sessionCookie } from '../../src/admin/session'
import { clearQaCookie, readQaCookie, setQaCookie } from '../../src/qa/cookie'

describe('src/http: one definition each (issue 10)', () => {
  it('Secure on every cookie except over plain http to a loopback host; the same for every cookie', () => {
    for (const [url, secure] of [
      ['https://shop.example/', true],
      ['https://localhost/', true],
      ['https://127.0.0.1:8787/', true],
      ['http://shop.example/', true],
      ['http://localhost:8787/', false],
      ['http://app.localhost/', false],
      ['http://127.0.0.1:8787/', false],
      ['http://[::1]:8787/', false],
      ['http://localhost', false],
      ['http://localhost?x=1', false],
      ['http://LOCALHOST:8787/', false],
      ['http://user@localhost/', false],
      ['http://localhost.evil.example/', true],
      ['http://evil.example/localhost', true],
      ['http://evil.example/?h=127.0.0.1', true],
      ['http://[::2]:8787/', true],
    ] as const) {
      expect(isPlainHttpLocalhost(url), url).toBe(!secure)
      const cookies = [
        setCookie('veneer_visitor', 'v', { maxAgeSeconds: 60, requestUrl: url }),
        setQaCookie({ token: 'a.b.c' }, 60, url),
        clearQaCookie(url),
        sessionCookie('v1.x', new URL(url)),
        clearCookie('veneer_consent', { requestUrl: url, httpOnly: false }),
      ]
      for (const c of cookies) expect(c.includes('; Secure'), `${url}: ${c}`).toBe(secure)
    }
  })

  it('reads cookies decoded and size-capped, the QA cookie too', () => {
    const session = { token: 'h.p.s', override: 'home=us, a=b&c', context: 'geo.city=Köln; x=%41' }
    const set = setQaCookie(session, 60, 'https://shop.example/')
    const value = set.split(';')[0] ?? ''
    expect(value).not.toMatch(/[\s";\\]|[^\x21-\x7e]/)
    expect(readQaCookie(`other=1; ${value}`)).toEqual(session)
    expect(readQaCookie(`veneer_qa=${'x'.repeat(5000)}`)).toBeUndefined()
    expect(readCookie('a=%E2%9C%93; b=2', 'a')).toBe('✓')
    expect(readCookie('a=%E2%9C; b=2', 'a')).toBe('%E2%9C')
    expect(readCookie(`a=${'y'.repeat(4097)}`, 'a')).toBeUndefined()
  })

  it('a cookie value comes back as it was written, and a token is written as it is', () => {
    const attrs = { maxAgeSeconds: 60, requestUrl: 'https://shop.example/' }
    expect(setCookie('veneer_visitor', 'eyJh.eyJz-_1.c2ln', attrs)).toBe(
      'veneer_visitor=eyJh.eyJz-_1.c2ln; Max-Age=60; Path=/; HttpOnly; Secure; SameSite=Lax',
    )
    for (const value of ['a;b', 'a"b', '100%', 'back\\slash', 'sp ace', 'tab\tx', 'café', '😀 ok', 'a=b&c,d', '{"p":1}']) {
      const pair = setCookie('c', value, attrs).split('; ')[0] ?? ''
      expect(pair, value).not.toMatch(/[\s";\\]|[^\x21-\x7e]/)
      expect(readCookie(`x=1; ${pair}`, 'c'), value).toBe(value)
    }
  })

  it('same-origin: Sec-Fetch-Site same-origin or a matching Origin, nothing contradicting', () => {
    const req = (h: Record<string, string>) => new Request('https://shop.example/x', { method: 'POST', headers: h })
    expect(isSameOrigin(req({ 'sec-fetch-site': 'same-origin' }))).toBe(true)
    expect(isSameOrigin(req({ origin: 'https://shop.example' }))).toBe(true)
    expect(isSameOrigin(req({}))).toBe(false)
    expect(isSameOrigin(req({ 'sec-fetch-site': 'same-site' }))).toBe(false)
    expect(isSameOrigin(req({ 'sec-fetch-site': 'none' }))).toBe(false)
    expect(isSameOrigin(req({ origin: 'https://evil.example' }))).toBe(false)
    expect(isSameOrigin(req({ origin: 'null' }))).toBe(false)
    expect(isSameOrigin(req({ 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' }))).toBe(false)
    expect(isSameOrigin(req({ referer: 'https://shop.example/a' }))).toBe(false)
  })

  it('a redirect target is a path of this origin, control characters refused', () => {
    const base = 'https://shop.example/__veneer/qa'
    expect(localPath('/products?x=1#a', base)).toEqual({ ok: true, path: '/products?x=1#a' })
    expect(localPath('/a\r\nb', base)).toEqual({ ok: false, reason: 'control' })
    expect(localPath('/\t/evil.example/', base)).toEqual({ ok: false, reason: 'control' })
    for (const to of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', 'x'])
      expect(localPath(to, base).ok, to).toBe(false)
  })

  it('body limits count the bytes read, with or without Content-Length', async () => {
    const stream = (n: number) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < n; i++) c.enqueue(new Uint8Array(100))
          c.close()
        },
      })
    const post = (n: number) => new Request('https://x.example/', { method: 'POST', body: stream(n) })
    expect((await readBodyBytes(post(10), 1000)).ok).toBe(true)
    expect(await readBodyBytes(post(11), 1000)).toEqual({ ok: false, reason: 'too_large' })
    const declared = new Request('https://x.example/', { method: 'POST', body: 'x', headers: { 'content-length': '5000' } })
    expect(await readBodyBytes(declared, 1000)).toEqual({ ok: false, reason: 'too_large' })
  })

  it('one key-id rule: the cookie keyring and measurement hashing read VISITOR_SECRET alike', () => {
    const long = `${'k'.repeat(40)}:${'s'.repeat(40)}`
    for (const spec of [
      'plain-secret-of-enough-length-0123456789',
      'plain,with,commas-and-length-0123456789',
      `k1:${'a'.repeat(32)},k0:${'b'.repeat(32)}`,
      long,
      `${long},k2:${'c'.repeat(32)}`,
    ]) {
      expect(measurementKey(spec), spec).toBe(parseKeyringSpec(spec)[0]?.[1])
    }
  })
})
