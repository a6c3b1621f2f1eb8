import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import demo from '../../demo/ruleset.json'
import { createApp } from '../../src/app'
import type { Env } from '../../src/env'
import { CF, rulesKv } from '../helpers'

const jacket = () =>
  new Response(
    '<!doctype html><html><head></head><body><button class="cart" id="add-to-cart">Add to cart</button><div id="offer"></div></body></html>',
    { headers: { 'content-type': 'text/html' } },
  )

async function get(app: ReturnType<typeof createApp>, e: Env, url: string, cookie = '') {
  const ctx = createExecutionContext()
  const res = await app.fetch(new Request(url, { headers: cookie ? { cookie } : {}, cf: CF.berlin } as RequestInit), e, ctx)
  const text = await res.text()
  await waitOnExecutionContext(ctx)
  return { res, text }
}

describe('GET /__veneer/decisions (veneer.decisions() in client.js)', () => {
  it('tells the page script the variants this visitor got on that page, without counting a view', async () => {
    const e: Env = {
      ...(env as unknown as Env),
      ORIGIN_URL: 'https://origin.example',
      RULES: await rulesKv(JSON.stringify(demo)),
      EVENTS: undefined,
    }
    const app = createApp({ fetchOrigin: async () => jacket() })
    const page = await get(app, e, 'https://shop.example/products/jacket')
    const cookie = page.res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    expect(cookie).toMatch(/veneer_visitor=/)
    const shown = /id="add-to-cart">([^<]*)</.exec(page.text)?.[1]
    const d = await get(app, e, 'https://shop.example/__veneer/decisions?path=%2Fproducts%2Fjacket', cookie)
    expect(d.res.status).toBe(200)
    expect(d.res.headers.get('cache-control')).toBe('private, no-store')
    expect(d.res.headers.getSetCookie()).toEqual([])
    const body = JSON.parse(d.text)
    expect(body).toMatchObject({ path: '/products/jacket', rulesetVersion: demo.version, holdout: false })
    expect(body.experiments['cart-button-copy']).toBe(shown === 'Add to bag' ? 'add-to-bag' : 'control')
    expect(body.placements['promo-bar']).toBe('control') // a desktop visitor
    // Asking again changes nothing: it is not a page view.
    expect(JSON.parse((await get(app, e, 'https://shop.example/__veneer/decisions?path=/products/jacket', cookie)).text)).toEqual(
      body,
    )
  })

  it('refuses anything but a page path', async () => {
    const app = createApp()
    for (const bad of ['https://evil.example/', '//evil.example/x', 'products']) {
      const { res } = await get(
        app,
        env as unknown as Env,
        `https://shop.example/__veneer/decisions?path=${encodeURIComponent(bad)}`,
      )
      expect(res.status).toBe(400)
    }
  })

  it('client.js exposes veneer.decisions()', async () => {
    const { text } = await get(createApp(), env as unknown as Env, 'https://shop.example/__veneer/client.js')
    expect(text).toContain('decisions:decisions')
    expect(text).toContain("'/__veneer/decisions?path='+encodeURIComponent(location.pathname)")
  })
})
