import { createExecutionContext } from 'cloudflare:test'
import { env as workersEnv } from 'cloudflare:workers'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import type { Env } from '../../src/env'
import { decodeVisitor } from '../../src/identity/visitor-token'
import { keyringFor } from '../../src/identity/keys'
import { MODEL_KEY } from '../../src/recs/model'
import { encodeModel } from '../../src/recs/model-codec'
import { flushAggregates, setFlushPolicy } from '../../src/measure/aggregate'
import type { RulesetInput } from '../../src/rules/schema'
import { CF, origin, recordKvGets, run, rulesKv } from '../helpers'
import { modelDoc } from './fixtures'

const env = workersEnv as unknown as Env & { RULES: KVNamespace; DB: D1Database }

const ORIGINAL = '<li>Origin list</li>'
const page = (path: string) => `<!doctype html><html><body><main><h1>${path}</h1>
<ul id="recs">${ORIGINAL}</ul><div id="popular"><p>Popular by hand</p></div></main></body></html>`
const shop = origin(
  (req) => new Response(page(new URL(req.url).pathname), { headers: { 'content-type': 'text/html; charset=utf-8' } }),
)

const DOC: RulesetInput = {
  version: 'recs-1',
  settings: { items: { path: '/products/:id' } },
  placements: [
    {
      id: 'also-viewed',
      paths: ['/products/*'],
      selector: '#recs',
      variants: [
        {
          id: 'recs',
          ops: [
            {
              op: 'recommend',
              strategy: 'also-viewed',
              count: 3,
              template: '<li><a href="{{item.url}}">{{item.title}}</a></li>',
            },
          ],
        },
      ],
      rules: [{ variant: 'recs' }],
    },
    {
      id: 'home-popular',
      paths: ['/'],
      selector: '#popular',
      variants: [
        {
          id: 'recs',
          ops: [{ op: 'recommend', strategy: 'also-viewed', count: 2, exclude: 'viewed', template: '<p>{{item.title}}</p>' }],
        },
      ],
      rules: [{ variant: 'recs' }],
    },
  ],
}

const cookieOf = (res: Response) => /veneer_visitor=([^;]+)/.exec(res.headers.getAll('set-cookie').join('\n'))?.[1]

async function visit(path: string, kv: KVNamespace, cookie?: string, extra: Partial<Env> = {}) {
  const headers: Record<string, string> = { accept: 'text/html', 'accept-encoding': 'identity' }
  if (cookie !== undefined) headers.cookie = `veneer_visitor=${cookie}`
  return run(`https://shop.example${path}`, {
    kv,
    app: { fetchOrigin: shop.fetchOrigin },
    init: { headers, cf: CF.newYork },
    env: extra,
  })
}

beforeAll(() => {
  setFlushPolicy({ maxAgeMs: 1 }) // the flush runs inside the request's waitUntil, which the helper awaits
})
afterAll(() => {
  setFlushPolicy(undefined)
})
beforeEach(async () => {
  await env.RULES.put(MODEL_KEY, encodeModel(modelDoc()))
})

describe('recommend in the Worker', () => {
  it('fills the element with rendered, escaped items before streaming', async () => {
    const doc = modelDoc()
    doc.items = doc.items.map((i) => (i.id === 'i1' ? { ...i, title: '<img src=x onerror=alert(1)>' } : i))
    await env.RULES.put(MODEL_KEY, encodeModel(doc))
    const { res, text } = await visit('/products/i0', await rulesKv(DOC))
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(text).toContain(
      '<ul id="recs"><li><a href="/products/i1">&lt;img src=x onerror=alert(1)&gt;</a></li><li><a href="/products/i2">Item 2</a></li><li><a href="/products/i3">Item 3</a></li></ul>',
    )
    expect(text).not.toContain(ORIGINAL)
  })

  it('a page with no placement on its path reads no model from KV; a page with one does', async () => {
    const kv = await rulesKv(DOC)
    const names = recordKvGets(kv)
    const about = await visit('/about', kv)
    expect(about.res.headers.get('x-veneer')).toBe('generic')
    expect(names.filter((n) => n !== 'ruleset')).toEqual([])
    await visit('/products/i0', kv)
    expect(names.filter((n) => n !== 'ruleset').length).toBeGreaterThan(0)
  })

  it('without a model the element stays exactly as the origin sent it', async () => {
    await env.RULES.delete(MODEL_KEY)
    const { res, text } = await visit('/products/i0', await rulesKv(DOC))
    expect(res.status).toBe(200)
    expect(text).toBe(page('/products/i0'))
  })

  it('a cold isolate is not held for a costly decode: first page as the origin sent it, the next filled', async () => {
    const doc = modelDoc()
    doc.items = [...doc.items, ...Array.from({ length: 1500 }, (_, i) => ({ id: `f${i}`, title: `Filler ${i}`, url: `/f/${i}` }))]
    await env.RULES.put(MODEL_KEY, JSON.stringify(doc)) // the first format, 100 KB: decoded after the response
    const kv = await rulesKv(DOC)
    const first = await visit('/products/i0', kv)
    expect(first.res.status).toBe(200)
    expect(first.text).toBe(page('/products/i0'))
    const second = await visit('/products/i0', kv)
    expect(second.text).toContain('<ul id="recs"><li><a href="/products/i1">Item 1</a></li>')
  })

  it('an invalid stored model is ignored the same way', async () => {
    await env.RULES.put(MODEL_KEY, '{"version": 3, "items": "no"}')
    const { text } = await visit('/products/i0', await rulesKv(DOC))
    expect(text).toBe(page('/products/i0'))
  })

  it('a cold start (no history, no item) gets popular; later pages use what the visitor viewed', async () => {
    const kv = await rulesKv(DOC)
    const first = await visit('/', kv)
    expect(first.text).toContain('<div id="popular"><p>Item 0</p><p>Item 1</p></div>')
    const a = await visit('/products/i20', kv, cookieOf(first.res))
    const home = await visit('/', kv, cookieOf(a.res))
    // i20's neighbours i21, i22; i20 itself is excluded as viewed.
    expect(home.text).toContain('<div id="popular"><p>Item 21</p><p>Item 22</p></div>')
  })

  it('without personalization consent no visitor items are read or kept', async () => {
    const kv = await rulesKv(DOC)
    const a = await visit('/products/i20', kv)
    const headers = { accept: 'text/html', cookie: `veneer_consent=none; veneer_visitor=${cookieOf(a.res)}` }
    const home = await run('https://shop.example/', {
      kv,
      app: { fetchOrigin: shop.fetchOrigin },
      init: { headers, cf: CF.newYork },
    })
    expect(home.text).toContain('<p>Item 0</p><p>Item 1</p>') // popular: the cookie was not used
    expect(home.res.headers.getAll('set-cookie').join()).not.toMatch(/veneer_visitor=[^;]/)
  })
})

describe('veneer_visitor keeps recent items under its bound', () => {
  it('30 item pages with 64-character ids: the last 12 are kept, the cookie stays under 4 KB', async () => {
    const kv = await rulesKv(DOC)
    let cookie: string | undefined
    const long = (n: number) => `p${String(n).padStart(2, '0')}-${'x'.repeat(60)}`
    for (let n = 0; n < 30; n++) {
      const r = await visit(`/products/${long(n)}`, kv, cookie)
      cookie = cookieOf(r.res) ?? cookie
      const header = r.res.headers.getAll('set-cookie').find((c) => c.startsWith('veneer_visitor='))
      expect((header ?? '').split(';')[0]?.length ?? 0).toBeLessThan(4096)
    }
    const ring = await keyringFor(env.VISITOR_SECRET)
    const record =
      ring === undefined || cookie === undefined ? undefined : await decodeVisitor(ring, cookie, Math.floor(Date.now() / 1000))
    expect(record?.recent).toEqual(Array.from({ length: 12 }, (_, i) => long(18 + i)))
  })
})

describe('co-occurrence counts are aggregated, not written per view', () => {
  it('20 item views cost no D1 statement until the flush, which writes each touched row once', async () => {
    await flushAggregates(env) // whatever earlier tests left in this isolate's buffer
    await env.DB.exec('DELETE FROM recs_counts; DELETE FROM recs_served')
    setFlushPolicy({ maxAgeMs: 60_000 }) // no timed flush during this test
    const sql: string[] = []
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === 'prepare')
          return (q: string) => {
            sql.push(q)
            return target.prepare(q)
          }
        const v = Reflect.get(target, prop)
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
    const testEnv: Env = { ...env, DB: db, EVENTS: undefined, ORIGIN_URL: 'https://origin.example', RULES: await rulesKv(DOC) }
    const app = createApp({ fetchOrigin: shop.fetchOrigin })
    let cookie: string | undefined
    const views = [
      'i1',
      'i2',
      'i1',
      'i3',
      'i2',
      'i1',
      'i2',
      'i3',
      'i1',
      'i2',
      'i1',
      'i2',
      'i3',
      'i1',
      'i2',
      'i1',
      'i2',
      'i3',
      'i1',
      'i2',
    ]
    for (const item of views) {
      const headers: Record<string, string> = { accept: 'text/html' }
      if (cookie !== undefined) headers.cookie = `veneer_visitor=${cookie}`
      const res = await app.fetch(
        new Request(`https://shop.example/products/${item}`, { headers, cf: CF.newYork } as RequestInit),
        testEnv,
        createExecutionContext(),
      )
      await res.arrayBuffer()
      cookie = cookieOf(res) ?? cookie
    }
    expect(sql.filter((q) => q.includes('recs_'))).toEqual([])
    await flushAggregates(testEnv)
    setFlushPolicy({ maxAgeMs: 1 })
    // Touched rows: 3 items + 3 pairs (i1-i2, i1-i3, i2-i3): one upsert each, in one flush.
    expect(sql.filter((q) => q.includes('recs_counts')).length).toBe(6)
    const served = await env.DB.prepare(
      "SELECT strategy, slot, SUM(count) AS n FROM recs_served WHERE placement = 'also-viewed' GROUP BY strategy, slot",
    ).all()
    expect(served.results).toEqual([{ strategy: 'also-viewed', slot: 'top', n: 60 }]) // 20 pages × 3 slots
    const { results } = await env.DB.prepare("SELECT a, b, count FROM recs_counts WHERE kind = 'view' ORDER BY a, b").all()
    // By hand: a view pairs its item with each other item already in the visitor's recent list.
    // i1-i2: views 2 and 3, then every i1 (6) and i2 (7) view from the 5th on: 15. i1-i3: view 4,
    // then i1 (6) and i3 (3) views: 10. i2-i3: view 4, then i2 (7) and i3 (3) views: 11.
    expect(results).toEqual([
      { a: 'i1', b: '', count: 8 },
      { a: 'i1', b: 'i2', count: 15 },
      { a: 'i1', b: 'i3', count: 10 },
      { a: 'i2', b: '', count: 8 },
      { a: 'i2', b: 'i3', count: 11 },
      { a: 'i3', b: '', count: 4 },
    ])
  })
})

describe('exploration is marked in measurement: shown and followed, top against explore', () => {
  it('counts the slots shown, and a later view of a shown item as top-followed or explore-followed', async () => {
    const direct: Partial<Env> = { EVENTS: undefined } // flushes straight to DB, not through the queue
    await flushAggregates({ ...env, ...direct })
    await env.DB.exec('DELETE FROM recs_served')
    const doc = structuredClone(DOC)
    const home = doc.placements?.[1]?.variants[0]?.ops[0]
    if (home?.op !== 'recommend') throw new Error('fixture')
    home.explore = 0.5 // count 2: one top slot, one explored, every time
    const kv = await rulesKv(doc)
    const first = await visit('/', kv, undefined, direct)
    const shown = [...first.text.matchAll(/<p>Item (\d+)<\/p>/g)].map((m) => `i${m[1]}`)
    expect(shown).toHaveLength(2)
    // The top slot is popular's first item (i0); the other was explored.
    const explored = shown.find((id) => id !== 'i0') as string
    const second = await visit(`/products/${explored}`, kv, cookieOf(first.res), direct)
    await visit('/products/zzz', kv, cookieOf(second.res), direct) // not shown by the last page: not a follow
    const again = await visit('/', kv, undefined, direct) // another new visitor: i0 in the top slot again
    await visit('/products/i0', kv, cookieOf(again.res), direct)
    await flushAggregates({ ...env, ...direct })
    const { results } = await env.DB.prepare(
      'SELECT placement, slot, SUM(count) AS n FROM recs_served GROUP BY placement, slot ORDER BY placement, slot',
    ).all()
    expect(results).toEqual([
      { placement: '*', slot: 'explore-followed', n: 1 },
      { placement: '*', slot: 'top-followed', n: 1 },
      { placement: 'also-viewed', slot: 'top', n: 9 }, // three product pages × 3 slots
      { placement: 'home-popular', slot: 'explore', n: 2 },
      { placement: 'home-popular', slot: 'top', n: 2 },
    ])
  })
})
