import { beforeAll, describe, expect, it } from 'vitest'
import demo from '../../demo/ruleset.json'
import { CF, jwtPayload, send, seedRuleset, textOf } from './helpers'

const json = (o: unknown) => JSON.stringify(o)
const post = (body: BodyInit, o: { cookies?: Record<string, string>; headers?: Record<string, string> } = {}) =>
  send('/__veneer/events', {
    method: 'POST',
    body,
    cookies: o.cookies,
    // As a browser posts from the site's own page (events need same-origin, src/http/origin.ts).
    headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', ...o.headers },
  })

describe('POST /__veneer/events', () => {
  beforeAll(async () => {
    await seedRuleset(demo)
  })

  it('counts a cart add in the cookie it returns (sendBeacon: text/plain)', async () => {
    const page = await send('/products/backpack')
    const visitor = page.jar.veneer_visitor ?? ''
    const r = await post(json({ type: 'cart_add' }), {
      cookies: { veneer_visitor: visitor },
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
    })
    expect(r.res.status).toBe(200)
    expect(JSON.parse(r.body)).toEqual({ ok: true, counted: true, recorded: true })
    expect(r.res.headers.get('cache-control')).toBe('no-store')
    const p = jwtPayload(r.jar.veneer_visitor ?? '')
    expect(p).toMatchObject({ sub: jwtPayload(visitor).sub, ca: 1, pu: 0, pv: 1, le: 'cart_add' })
    const purchase = await post(json({ type: 'purchase', goal: 'purchase', value: 69 }), {
      cookies: { veneer_visitor: r.jar.veneer_visitor ?? '' },
    })
    expect(jwtPayload(purchase.jar.veneer_visitor ?? '')).toMatchObject({ ca: 1, pu: 1, le: 'purchase' })
  })

  it('counts a client-side page_view by its path and category', async () => {
    const r = await post(json({ type: 'page_view', path: '/products/jacket' }))
    expect(jwtPayload(r.jar.veneer_visitor ?? '')).toMatchObject({ pv: 1, vw: { product: 1 }, le: 'page_view' })
  })

  it('accepts a goal id of the ruleset as the type', async () => {
    const r = await post(json({ type: 'thanks-page' }))
    expect(r.res.status).toBe(200)
  })

  it.each([
    ['not JSON', 'type=cart_add'],
    ['no type', json({ goal: 'purchase' })],
    ['an unknown type', json({ type: 'teleport' })],
    ['an unknown goal', json({ type: 'purchase', goal: 'nope' })],
    ['a type that is not a name', json({ type: '<script>' })],
    ['a value that is not a number', json({ type: 'purchase', value: '12' })],
    ['an unknown field', json({ type: 'cart_add', email: 'a@b.c' })],
    ['an array', json([{ type: 'cart_add' }])],
    ['a relative path', json({ type: 'page_view', path: 'products' })],
  ])('refuses %s with 400 and sets no cookie', async (_what, body) => {
    const r = await post(body)
    expect(r.res.status).toBe(400)
    expect(JSON.parse(r.body)).toMatchObject({ error: 'invalid_event' })
    expect(r.setCookies).toEqual([])
  })

  it('refuses a body over 4 KB with 413, with or without Content-Length', async () => {
    const big = json({ type: 'cart_add', pad: 'x'.repeat(5000) })
    expect((await post(big)).res.status).toBe(413)
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode('x'.repeat(1000)))
        c.close()
      },
    })
    expect((await post(stream)).res.status).toBe(413)
    // Exactly 4,096 bytes is still read and accepted; one byte more is not.
    const edge = json({ type: 'cart_add' }).padEnd(4096, ' ')
    expect((await post(edge)).res.status).toBe(200)
    expect((await post(`${edge} `)).res.status).toBe(413)
  })

  it('refuses a cross-site post', async () => {
    const r = await post(json({ type: 'cart_add' }), { headers: { 'sec-fetch-site': 'cross-site' } })
    expect(r.res.status).toBe(403)
  })

  it('counts and records nothing without consent, and deletes a leftover visitor cookie', async () => {
    const page = await send('/products/backpack')
    const r = await post(json({ type: 'cart_add' }), {
      cookies: { veneer_consent: 'none', veneer_visitor: page.jar.veneer_visitor ?? '' },
    })
    expect(r.res.status).toBe(200)
    expect(JSON.parse(r.body)).toEqual({ ok: true, counted: false, recorded: false })
    expect(r.setCookies).toHaveLength(1)
    expect(r.setCookies[0]).toMatch(/^veneer_visitor=; Max-Age=0/)
  })

  it('counts with personalization but records nothing without analytics consent', async () => {
    const r = await post(json({ type: 'cart_add' }), { cookies: { veneer_consent: 'personalization' } })
    expect(JSON.parse(r.body)).toEqual({ ok: true, counted: true, recorded: false })
  })
})

describe('the demo hesitant shopper, end to end in workerd', () => {
  beforeAll(async () => {
    await seedRuleset(demo)
  })

  it('appears after more than 5 product views and a cart add, and leaves after a purchase', async () => {
    let jar: Record<string, string> = {}
    const view = async (path: string) => {
      const r = await send(path, { cf: CF.US, cookies: jar })
      if (r.jar.veneer_visitor !== undefined) jar = { veneer_visitor: r.jar.veneer_visitor }
      return r
    }
    const products = ['/products/backpack', '/products/jacket', '/products/sneakers']
    for (let i = 0; i < 6; i++) expect((await view(products[i % 3] ?? '')).body).not.toContain('Shipping is on us')
    const add = await post(json({ type: 'cart_add' }), { cookies: jar })
    jar = { veneer_visitor: add.jar.veneer_visitor ?? '' }
    const hesitant = await view('/products/jacket')
    expect(hesitant.body).toMatch(/<div id="offer" class="show">Still deciding\? Shipping is on us today/)
    // The cart button belongs to the cart-button-copy experiment, not to this placement.
    expect(['Add to cart', 'Add to bag']).toContain(textOf(hesitant.body, 'add-to-cart'))
    const buy = await post(json({ type: 'purchase' }), { cookies: jar })
    jar = { veneer_visitor: buy.jar.veneer_visitor ?? '' }
    expect((await view('/products/jacket')).body).not.toContain('Shipping is on us')
  })
})

describe('GET /__veneer/client.js', () => {
  it('is a small script: under 2 KB gzipped', async () => {
    const r = await send('/__veneer/client.js')
    expect(r.res.status).toBe(200)
    expect(r.res.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect(r.body).toContain('veneer')
    expect(r.body).toContain('/__veneer/events')
    const gz = new Response(new Blob([r.body]).stream().pipeThrough(new CompressionStream('gzip')))
    const size = (await gz.arrayBuffer()).byteLength
    console.log(`client.js: ${r.body.length} bytes, ${size} bytes gzipped`)
    expect(size).toBeLessThan(2048)
    expect(r.setCookies).toEqual([])
  })
})
