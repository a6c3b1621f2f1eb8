import { beforeEach, describe, expect, it } from 'vitest'
import { forgetRuleset } from '../../src/rules/store'
import { baseEnv, html, page, personalized, RULESET_TEXT, serve } from './fixtures'

const realKv = baseEnv.RULES as KVNamespace
const origin = page(20_000)
const fromOrigin = async () => html(origin)
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36'

beforeEach(async () => {
  await realKv.put('ruleset', RULESET_TEXT)
  forgetRuleset(realKv)
})

describe('odd requests: personalized as usual, no 5xx', () => {
  it('100 cookies', async () => {
    const cookie = Array.from({ length: 100 }, (_, i) => `c${i}=${'v'.repeat(20)}${i}`).join('; ')
    const { res, originRequests } = await serve(fromOrigin, '/products/1', {
      headers: { cookie, 'user-agent': UA, 'accept-encoding': 'identity' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(await res.text()).toBe(personalized(origin))
    expect(originRequests[0]?.headers.get('cookie')).toBe(cookie) // the origin still gets them all
  })

  it('a 16 KB cookie header, with Veneer cookie names holding junk', async () => {
    const junk = 'x'.repeat(16 * 1024 - 200)
    const cookie = `veneer_consent=%%%; veneer_visitor=not.a.jwt; veneer_profile=${'A'.repeat(100)}; big=${junk}`
    const { res } = await serve(fromOrigin, '/products/2', {
      headers: { cookie, 'user-agent': UA, 'accept-encoding': 'identity' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(await res.text()).toBe(personalized(origin))
  })

  it('unicode in the path, percent-encoded and raw: same page, origin gets the encoded path', async () => {
    for (const path of ['/caf%C3%A9/%E2%9C%93', '/café/✓']) {
      const { res, originRequests } = await serve(fromOrigin, path)
      expect(res.status).toBe(200)
      expect(res.headers.get('x-veneer')).toBe('personalized')
      expect(await res.text()).toBe(personalized(origin))
      expect(new URL(originRequests[0]?.url ?? '').pathname).toBe('/caf%C3%A9/%E2%9C%93')
    }
  })

  it('a malformed percent-encoding in the path is kept as it is', async () => {
    const { res, originRequests } = await serve(fromOrigin, '/products/%E0%A4%A/%ZZ')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(await res.text()).toBe(personalized(origin))
    expect(new URL(originRequests[0]?.url ?? '').pathname).toBe('/products/%E0%A4%A/%ZZ')
  })

  it('a malformed Sec-CH-UA (and friends)', async () => {
    for (const ch of ['"Chromium";v="140", "Not;A=Brand', '"""', ',,,,', 'x'.repeat(10_000), '"\u00ff";v=1']) {
      const headers = {
        'sec-ch-ua': ch,
        'sec-ch-ua-mobile': '?2',
        'sec-ch-ua-platform': '"\\"',
        'user-agent': UA,
        'accept-encoding': 'identity',
      }
      const { res } = await serve(fromOrigin, '/products/3', { headers })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-veneer')).toBe('personalized')
      expect(await res.text()).toBe(personalized(origin))
    }
  })

  it('a request without cf, user-agent or any header is still served (generic headline)', async () => {
    const { res } = await serve(fromOrigin, '/products/4', { headers: {}, cf: undefined })
    expect(res.status).toBe(200)
    expect(['personalized', 'generic']).toContain(res.headers.get('x-veneer'))
    const body = await res.text()
    expect([origin, personalized(origin)]).toContain(body)
  })

  it('HEAD and POST pass through to the origin untouched', async () => {
    for (const method of ['HEAD', 'POST']) {
      const { res } = await serve(async () => html(method === 'HEAD' ? null : origin), '/products/5', {
        method,
        body: method === 'POST' ? 'a=1' : undefined,
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-veneer')).toBeNull()
    }
  })
})
