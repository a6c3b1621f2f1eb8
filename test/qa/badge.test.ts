import { env as workerEnv } from 'cloudflare:workers'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import demo from '../../demo/ruleset.json'
import { createApp } from '../../src/app'
import type { Env } from '../../src/env'
import { encodeQaCookie } from '../../src/qa/cookie'
import { mintQaToken } from '../../src/qa/token'
import { QA_SECRET, invalidTokens } from './tokens'

const env = workerEnv as unknown as Env & { RULES: KVNamespace }
const app = createApp({ budgetMs: 1000 })
let token: string

async function get(path: string, headers: Record<string, string> = {}): Promise<{ res: Response; body: string }> {
  const request = new Request(`https://shop.example${path}`, { headers: { 'accept-encoding': 'identity', ...headers } })
  const ctx = createExecutionContext()
  const res = await app.fetch(request, env, ctx)
  const body = await res.text()
  await waitOnExecutionContext(ctx)
  return { res, body }
}

const badgeOf = (body: string) => /<div id="veneer-qa-badge"[\s\S]*?<\/details><\/div>/.exec(body)?.[0]

beforeAll(async () => {
  await env.RULES.put('ruleset', JSON.stringify(demo))
  token = await mintQaToken(QA_SECRET, 3600)
})

describe('the on-page QA badge', () => {
  it('is appended to <body> in a QA browser session, listing each placement, its variant and why', async () => {
    const cookie = `veneer_qa=${encodeQaCookie({ token, context: 'geo.country=DE; geo.city=Berlin', override: 'greeting=evening' })}`
    const { res, body } = await get('/', { cookie })
    expect(res.headers.get('cache-control')).toContain('no-store')
    const badge = badgeOf(body)
    expect(badge).toBeDefined()
    expect(body.indexOf('id="veneer-qa-badge"')).toBeLessThan(body.indexOf('</body>'))
    expect(body.indexOf('id="veneer-qa-badge"')).toBeGreaterThan(body.indexOf('/assets/shop.js'))
    expect(badge).toContain('<tr data-placement="home-hero">')
    expect(badge).toMatch(/data-placement="home-hero">.*?<b data-variant>germany<\/b>.*?rule 1 matched/)
    expect(badge).toMatch(/data-placement="greeting">.*?<b data-variant>evening<\/b>.*?QA override by placement/)
    expect(badge).toContain('geo.country=DE')
    expect(badge).toContain('Overrides: <code')
    expect(badge).toMatch(/Token expires in (59 min|1 h 0 min)/)
    expect(badge).toContain('href="/__veneer/qa?clear=1"')
    expect(badge).not.toContain('<script')
  })

  it('is there on a page no placement changes, and absent for header-driven QA and for bad tokens', async () => {
    const none = await get('/robots.txt', { cookie: `veneer_qa=${token}` })
    expect(none.body).not.toContain('veneer-qa-badge') // not HTML: untouched
    const thanks = await get('/thanks', { cookie: `veneer_qa=${token}` })
    expect(badgeOf(thanks.body)).toContain('Veneer QA mode')

    const header = await get('/', { 'x-veneer-qa': token })
    expect(header.res.headers.get('x-veneer-trace')).not.toBeNull()
    expect(header.body).not.toContain('veneer-qa-badge')

    for (const [why, bad] of Object.entries(await invalidTokens())) {
      const { body } = await get('/', { cookie: `veneer_qa=${bad}` })
      expect(body, why).not.toContain('veneer-qa-badge')
    }
    const plain = await get('/')
    expect(plain.body).not.toContain('veneer-qa-badge')
  })

  it('escapes whatever the tester or the ruleset put in it', async () => {
    const hostile = '<img src=x onerror=alert(1)>'
    const cookie = `veneer_qa=${encodeQaCookie({ token, context: `geo.city=${hostile}`, override: 'home-hero=us' })}`
    const { body } = await get('/', { cookie })
    const badge = badgeOf(body) ?? ''
    expect(badge).toContain('geo.city=&lt;img src=x onerror=alert(1)&gt;')
    expect(badge).not.toContain('<img')
  })
})
