import { env as workersEnv } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import type { Env } from '../../src/env'
import { keyringFor } from '../../src/identity/keys'
import {
  MAX_ASSIGNMENTS,
  MAX_CATEGORIES,
  MAX_PURCHASED_ITEMS,
  MAX_RECENT_ITEMS,
  decodeVisitor,
  encodeVisitor,
  newVisitorRecord,
} from '../../src/identity/visitor-token'
import { createApp } from '../../src/app'
import { setCookie } from '../../src/http/cookies'
import { CF } from '../helpers'

const env = workersEnv as unknown as Env
const NOW = 1_790_000_000
const name = (prefix: string, i: number, len: number) => `${prefix}${i}-`.padEnd(len, 'x')

describe('veneer_visitor with recommendation items: the 4 KB bound', () => {
  it('the worst case (50 long assignments, 20 long categories, full item lists) stays under 4 KB, items going first', async () => {
    const ring = await keyringFor(env.VISITOR_SECRET)
    if (ring === undefined) throw new Error('no VISITOR_SECRET in the test env')
    const r = newVisitorRecord(NOW)
    r.assignments = Array.from({ length: MAX_ASSIGNMENTS }, (_, i) => [name('e', i, 100), name('v', i, 100)] as [string, string])
    for (let i = 0; i < MAX_CATEGORIES; i++) r.behavior.views[name('c', i, 100)] = 1_000_000_000
    r.recent = Array.from({ length: MAX_RECENT_ITEMS }, (_, i) => name('r', i, 64))
    r.purchased = Array.from({ length: MAX_PURCHASED_ITEMS }, (_, i) => name('p', i, 64))
    const token = await encodeVisitor(ring, r, NOW, 86_400)
    const cookie = setCookie('veneer_visitor', token, { maxAgeSeconds: 86_400, requestUrl: 'https://shop.example/' })
    expect(`veneer_visitor=${token}`.length).toBeLessThan(4096)
    expect(cookie.length).toBeLessThan(4096 + 200) // attributes are not counted by browsers' 4,096
    expect(r.recent).toEqual([]) // recommendations' lists gave way first
    expect(r.purchased).toEqual([])
    expect(r.assignments.length).toBeGreaterThan(0)
  })

  it('a typical visitor keeps every item, in order, through a round trip', async () => {
    const ring = await keyringFor(env.VISITOR_SECRET)
    if (ring === undefined) throw new Error('no VISITOR_SECRET in the test env')
    const r = newVisitorRecord(NOW)
    r.assignments = [['cart-button-copy', 'add-to-bag']]
    r.recent = Array.from({ length: MAX_RECENT_ITEMS }, (_, i) => name('r', i, 64))
    r.purchased = ['socks', 'cap']
    const back = await decodeVisitor(ring, await encodeVisitor(ring, r, NOW, 86_400), NOW)
    expect(back?.recent).toEqual(r.recent)
    expect(back?.purchased).toEqual(['socks', 'cap'])
    expect(back?.assignments).toEqual([['cart-button-copy', 'add-to-bag']])
  })
})

describe('POST /__veneer/events with an item', () => {
  it('cart_add with item puts it in the purchased list (most recent last, no duplicates); a bad item id is refused', async () => {
    const app = createApp()
    const post = (body: unknown, cookie?: string) =>
      app.request(
        'https://shop.example/__veneer/events',
        {
          method: 'POST',
          body: JSON.stringify(body),
          headers: {
            'sec-fetch-site': 'same-origin',
            ...(cookie === undefined ? {} : { cookie: `veneer_visitor=${cookie}` }),
          },
          cf: CF.newYork,
        } as RequestInit,
        { ...env, EVENTS: undefined, DB: undefined },
      )
    const cookieOf = (res: Response) => /veneer_visitor=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1]
    let cookie = cookieOf(await post({ type: 'cart_add', item: 'socks' }))
    cookie = cookieOf(await post({ type: 'purchase', item: 'cap' }, cookie))
    cookie = cookieOf(await post({ type: 'cart_add', item: 'socks' }, cookie))
    const ring = await keyringFor(env.VISITOR_SECRET)
    const record =
      ring === undefined || cookie === undefined ? undefined : await decodeVisitor(ring, cookie, Math.floor(Date.now() / 1000))
    expect(record?.purchased).toEqual(['cap', 'socks'])
    expect(record?.behavior.cartAdds).toBe(2)
    expect((await post({ type: 'cart_add', item: 'bad id <x>' })).status).toBe(400)
  })
})
