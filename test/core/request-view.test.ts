import { afterEach, describe, expect, it, vi } from 'vitest'
import { requestView } from '../../src/http/request-view'
import { ruleset, rulesKv, run } from '../helpers'

afterEach(() => vi.restoreAllMocks())

describe('requestView: a request read from the runtime once', () => {
  it('answers as the request does: url, method, present, absent and repeated headers, cf', () => {
    const headers = new Headers([
      ['Cookie', 'a=1'],
      ['Accept', 'text/html'],
      ['Accept', 'application/xhtml+xml'],
    ])
    const request = new Request('https://shop.example/a/b?q=1', { method: 'GET', headers, cf: { country: 'DE' } } as RequestInit)
    const view = requestView(request)
    expect(view.url).toBe(request.url)
    expect(view.method).toBe('GET')
    expect(view.headers.get('cookie')).toBe('a=1')
    expect(view.headers.get('accept')).toBe(request.headers.get('accept')) // combined, as the runtime joins them
    expect(view.headers.get('range')).toBeNull()
    expect(view.headers.has('cookie')).toBe(true)
    expect(view.headers.has('range')).toBe(false)
    expect((view.cf as { country?: string } | undefined)?.country).toBe('DE')
  })

  it('asks the runtime for each header once, however often Veneer reads it', () => {
    const request = new Request('https://shop.example/', { headers: { cookie: 'a=1' } })
    const get = vi.spyOn(request.headers, 'get')
    const view = requestView(request)
    for (let i = 0; i < 3; i++) {
      view.headers.get('cookie')
      view.headers.has('cookie')
      view.headers.get('sec-gpc')
    }
    expect(get.mock.calls.map((c) => c[0])).toEqual(['cookie', 'sec-gpc'])
  })

  it('a page view reads the Cookie header from the runtime once (consent and visitor cookie read from one value)', async () => {
    const kv = await rulesKv(ruleset())
    const first = await run('https://shop.example/', { kv })
    const visitor = first.res.headers.get('set-cookie')?.split(';')[0] ?? ''
    expect(visitor).toMatch(/^veneer_visitor=/)
    const get = vi.spyOn(Headers.prototype, 'get')
    const second = await run('https://shop.example/', {
      kv,
      init: { headers: { cookie: `veneer_consent=personalization,analytics; ${visitor}` } },
    })
    expect(second.res.headers.get('x-veneer')).toBe('personalized')
    expect(second.res.headers.get('set-cookie')).toMatch(/^veneer_visitor=/)
    expect(get.mock.calls.filter((c) => c[0] === 'cookie')).toHaveLength(1)
  })
})
