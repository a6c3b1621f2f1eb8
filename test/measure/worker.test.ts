import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Env } from '../../src/env'
import { forgetRuleset } from '../../src/rules/store'
import worker from '../../src/worker'
import { BERLIN_CF, clearTables, DESKTOP_UA, directEnv, env, rows, RULESET_DOC } from './helpers'

async function page(e: Env, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { status, body } = await pageWithCookie(e, path, headers)
  return { status, body }
}

async function pageWithCookie(
  e: Env,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; visitor: string }> {
  const ctx = createExecutionContext()
  const res = await worker.fetch(
    new Request(`https://shop.example${path}`, { headers: { 'user-agent': DESKTOP_UA, ...headers }, cf: BERLIN_CF }),
    e,
    ctx,
  )
  const body = await res.text()
  await waitOnExecutionContext(ctx)
  const visitor =
    res.headers
      .getSetCookie()
      .find((c) => c.startsWith('veneer_visitor='))
      ?.split(';')[0] ?? ''
  return { status: res.status, body, visitor }
}

beforeAll(async () => {
  await env.RULES.put('ruleset', JSON.stringify(RULESET_DOC))
})
beforeEach(async () => {
  forgetRuleset(env.RULES)
  await clearTables(env.DB)
})

describe('measurement through the Worker', () => {
  it('a page served to a consenting visitor counts the variant served for each placement', async () => {
    const { status } = await page(directEnv, '/')
    expect(status).toBe(200)
    const served = await rows(env.DB, 'served')
    expect(served.map((r) => [r.placement, r.count])).toEqual(
      expect.arrayContaining([
        ['hero', 1],
        ['promo', 1],
      ]),
    )
    expect(served.every((r) => r.day === new Date().toISOString().slice(0, 10))).toBe(true)
  })

  it('bots are not counted', async () => {
    await page(directEnv, '/', { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' })
    expect(await rows(env.DB, 'served')).toEqual([])
  })

  it('a broken measurement store never changes the page', async () => {
    // The same visitor each time, so experiments give the same arms.
    const first = await pageWithCookie(directEnv, '/')
    const cookie = { cookie: first.visitor }
    const normal = await page(directEnv, '/', cookie)
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    await env.DB.exec('ALTER TABLE served RENAME TO served_away')
    try {
      const broken = await page(directEnv, '/', cookie)
      expect(broken).toEqual(normal)
      // A missing binding neither.
      expect(await page({ ...directEnv, DB: undefined }, '/', cookie)).toEqual(normal)
    } finally {
      await env.DB.exec('ALTER TABLE served_away RENAME TO served')
    }
    expect(error.mock.calls.flat().join('\n')).toContain('measure_flush_failed')
    error.mockRestore()
  })
})
