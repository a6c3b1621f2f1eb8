import { describe, expect, it } from 'vitest'
import { framedPage } from '../../src/editor/frame'
import { countMatches } from '../../src/editor/matches'
import { NO_VISITOR } from '../../src/editor/visitor'
import { compileRuleset } from '../../src/rules/compile'
import { demoRuleset, testEnv } from '../admin/helpers'

const compiled = compileRuleset(demoRuleset())
if (!compiled.ok) throw new Error('demo ruleset does not compile')
const ruleset = compiled.ruleset
const env = { ...testEnv, ORIGIN_URL: 'https://origin.example' }

function frame(html: string, seen: Request[] = [], e = env, status = 200, type = 'text/html; charset=utf-8') {
  return framedPage({
    request: new Request('https://shop.example/__veneer/admin/editor/frame?path=/', {
      headers: { cookie: 'veneer_admin=secret-session; veneer_visitor=abc', 'user-agent': 'Mozilla/5.0 Test' },
    }),
    env: e,
    path: '/',
    visitor: NO_VISITOR,
    ruleset,
    nonce: 'test-nonce-0123456789',
    waitUntil: () => undefined,
    fetcher: async (req) => {
      seen.push(req)
      return new Response(html, { status, headers: { 'content-type': type } })
    },
  })
}

describe('the framed page', () => {
  it("sends the origin none of the admin's cookies, drops a meta CSP, and adds the picker", async () => {
    const seen: Request[] = []
    const res = await frame(
      '<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="script-src \'none\'"></head><body><section id="hero"><h1>Hi</h1></section></body></html>',
      seen,
    )
    const html = await res.text()
    expect(seen).toHaveLength(1)
    expect(seen[0]?.headers.get('cookie')).toBeNull()
    expect(seen[0]?.headers.get('user-agent')).toBe('Mozilla/5.0 Test')
    expect(html).not.toContain('http-equiv')
    expect(html).toContain('<script nonce="test-nonce-0123456789">')
    expect(html.indexOf('<script nonce')).toBeLessThan(html.indexOf('</body>'))
  })

  it('adds the picker to a page without <body>, and explains a page that is not HTML or not 200', async () => {
    expect(await (await frame('<h1>bare</h1>')).text()).toMatch(/<h1>bare<\/h1><script nonce="test-nonce-0123456789">/)
    const missing = await (await frame('gone', [], env, 404, 'text/plain')).text()
    expect(missing).toContain('The origin answered 404 (text/plain) for /: there is no page to edit here.')
    expect(missing).not.toContain('veneer:selected')
  })

  it('refuses to preview without QA_SECRET rather than count the admin as a visitor', async () => {
    const res = await frame('<body><h1>x</h1></body>', [], { ...env, QA_SECRET: undefined })
    expect(res.status).toBe(503)
    expect(await res.text()).toContain('needs QA_SECRET')
  })
})

describe('countMatches', () => {
  it('counts what HTMLRewriter matches in the demo page, and gives up when there is no page', async () => {
    expect(await countMatches(testEnv, 'https://shop.example', '/', 'h3')).toBe(3)
    expect(await countMatches(testEnv, 'https://shop.example', '/', '#hero h1')).toBe(1)
    expect(await countMatches(testEnv, 'https://shop.example', '/', '#none')).toBe(0)
    expect(await countMatches(testEnv, 'https://shop.example', '/no-such-page', 'h1')).toBeUndefined()
    expect(await countMatches({ ...testEnv, ASSETS: undefined }, 'https://shop.example', '/', 'h1')).toBeUndefined()
  })
})
