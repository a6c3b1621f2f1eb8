import { env as workersEnv } from 'cloudflare:workers'
import fc from 'fast-check'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Env } from '../../src/env'
import { MODEL_KEY, MODEL_META_KEY, type RecsModelDoc } from '../../src/recs/model'
import { decodeModel, encodeModel, modelDocOf, modelKvEntries, storedVersion } from '../../src/recs/model-codec'
import type { RecsIndex } from '../../src/recs/model-index'
import { recommend } from '../../src/recs/recommend'
import { getRecsModel, MODEL_REFRESH_SECONDS, modelDecodeCount } from '../../src/recs/store'
import { index, modelDoc } from './fixtures'

const env = workersEnv as unknown as Env & { RULES: KVNamespace }

/** env.RULES seen through a wrapper that records every key read (its own model state, too). */
function countingKv(stall?: { key: string; ms: number }) {
  const reads: string[] = []
  const kv = {
    get(key: string, type: 'text') {
      reads.push(key)
      const value = env.RULES.get(key, type)
      if (stall?.key !== key) return value
      return new Promise((resolve) => setTimeout(() => resolve(value), stall.ms))
    },
  } as unknown as KVNamespace
  return { kv, reads, modelReads: () => reads.filter((k) => k === MODEL_KEY).length }
}

async function lookup(kv: KVNamespace, now?: number, budgetMs = 50) {
  const pending: Promise<unknown>[] = []
  const model = await getRecsModel(kv, { budgetMs, waitUntil: (p) => pending.push(p), now })
  return { model, settled: () => Promise.all(pending) }
}

const later = (minutes: number) => Date.now() + minutes * 60_000 + MODEL_REFRESH_SECONDS * 1000

async function store(doc: RecsModelDoc): Promise<void> {
  for (const [key, value] of modelKvEntries(doc)) await env.RULES.put(key, value)
}

/** A model of `n` items × 20 neighbours, as in bench/recs.mjs. */
function bigDoc(n: number, version = 'm-big'): RecsModelDoc {
  const list = Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    title: `Everyday item number ${i}`,
    url: `/products/p${i}`,
    image: `/img/p${i}.webp`,
    category: `c${i % 12}`,
    price: `$${(i % 90) + 9}.99`,
  }))
  const alsoViewed: RecsModelDoc['alsoViewed'] = {}
  for (let i = 0; i < n; i++)
    alsoViewed[`p${i}`] = Array.from({ length: 20 }, (_, k) => [`p${(i * 7 + k * 13 + 1) % n}`, 1 - k / 25] as const)
  const popular = list.slice(0, 100).map((i) => i.id)
  return { ...modelDoc(), version, items: list, alsoViewed, alsoBought: {}, trending: popular, popular, popularByCategory: {} }
}

const ids = (m: RecsIndex | undefined, current = 'i0') =>
  m === undefined
    ? []
    : recommend(m, { strategy: 'also-viewed', count: 4 }, { current, recent: [], purchased: [] }).slots.map((s) => s.item.id)

beforeEach(async () => {
  await env.RULES.delete(MODEL_KEY)
  await env.RULES.delete(MODEL_META_KEY)
})

describe('the stored model (format 2)', () => {
  it('decodes to the document it was built from', () => {
    const doc = modelDoc()
    const text = encodeModel(doc)
    expect(storedVersion(text)).toBe('m-test')
    expect(modelDocOf(decodeModel(text) as RecsIndex)).toEqual(doc)
  })

  it('round-trips any catalog text, URL and score the build can produce', () => {
    const item = fc.record({
      title: fc.string({ minLength: 1, maxLength: 40 }),
      category: fc.option(fc.constantFrom('a', 'b', 'c"\\\n', 'ü'), { nil: undefined }),
      price: fc.option(fc.oneof(fc.integer(), fc.string({ minLength: 1, maxLength: 10 })), { nil: undefined }),
    })
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 1e6 })), (list, scores) => {
        const doc: RecsModelDoc = {
          ...modelDoc(),
          items: list.map((x, i) => ({
            id: `x${i}`,
            title: x.title,
            url: `/p/${i}?q=${encodeURIComponent(x.title)}`,
            ...(x.category === undefined ? {} : { category: x.category }),
            ...(x.price === undefined ? {} : { price: x.price }),
          })),
          alsoViewed: { x0: scores.slice(0, 20).map((s, k) => [`x${(k % (list.length - 1)) + 1}`, s / 1e6] as const) },
          alsoBought: {},
          popular: list.map((_, i) => `x${i}`).reverse(),
          trending: [],
          popularByCategory: {},
        }
        if (list.length === 1) doc.alsoViewed = {}
        const back = modelDocOf(decodeModel(encodeModel(doc)) as RecsIndex)
        expect(back.items).toEqual(doc.items)
        expect(back.alsoViewed).toEqual((doc.alsoViewed.x0 ?? []).length === 0 ? {} : doc.alsoViewed)
        expect(back.popular).toEqual(doc.popular)
      }),
      { numRuns: 60 },
    )
  })

  it('refuses a damaged value whole and an unsafe item alone', () => {
    const text = encodeModel(modelDoc())
    expect(decodeModel(text.slice(0, -1))).toBeUndefined() // truncated
    expect(decodeModel(`${text}A`)).toBeUndefined()
    expect(decodeModel(text.replace('"cat":[', '"cat":[99,'))).toBeUndefined()
    expect(decodeModel(text.replace('"popular":[', '"popular":[40,'))).toBeUndefined() // out of range
    expect(decodeModel('VENEER-RECS/2 "v"\n{}\n')).toBeUndefined()
    const unsafe = modelDoc()
    unsafe.items = unsafe.items.map((i) => (i.id === 'i1' ? { ...i, url: 'javascript:alert(1)' } : i))
    const m = decodeModel(encodeModel(unsafe))
    expect(m?.item(1)).toBeUndefined()
    expect(ids(m)).toEqual(['i2', 'i3', 'i4', 'i5'])
  })

  it('an old Worker ignores it: the first format’s reader parses JSON, which this is not', () => {
    expect(() => JSON.parse(encodeModel(modelDoc()))).toThrow(SyntaxError)
  })

  it('a format 1 model (one JSON document, the first cron’s) gives the same recommendations', () => {
    const legacy = decodeModel(JSON.stringify(modelDoc()))
    expect(legacy?.version).toBe('m-test')
    for (const current of ['i0', 'i20', 'i39'])
      for (const strategy of ['also-viewed', 'popular', 'trending'] as const) {
        const spec = { strategy, count: 4, perCategory: 2 }
        const visitor = { current, recent: ['i20', 'i5'], purchased: [] }
        expect(recommend(legacy as RecsIndex, spec, visitor).slots).toEqual(recommend(index(), spec, visitor).slots)
      }
  })
})

describe('the model in the isolate', () => {
  it('an unchanged model is neither read again nor decoded again on refresh', async () => {
    await store(modelDoc())
    const { kv, modelReads } = countingKv()
    const first = await lookup(kv)
    expect(ids(first.model)).toEqual(['i1', 'i2', 'i3', 'i4'])
    const decodes = modelDecodeCount()
    for (const minutes of [0, 2, 4]) {
      const r = await lookup(kv, later(minutes))
      await r.settled()
      expect(r.model).toBe(first.model)
    }
    expect(modelReads()).toBe(1) // the meta value told each refresh the version is the same
    expect(modelDecodeCount()).toBe(decodes)
  })

  it('a changed model is picked up by the next refresh', async () => {
    await store(modelDoc())
    const { kv, modelReads } = countingKv()
    const first = await lookup(kv)
    await store(modelDoc({ version: 'm-2', alsoViewed: { i0: [['i9', 1]] } }))
    const stale = await lookup(kv, later(0)) // this page still has the old one; the refresh runs after it
    expect(stale.model).toBe(first.model)
    await stale.settled()
    const fresh = await lookup(kv, later(0))
    expect(fresh.model?.version).toBe('m-2')
    expect(ids(fresh.model)).toEqual(['i9', 'i4', 'i8', 'i12']) // i9, then i0's category's popular items
    expect(modelReads()).toBe(2)
  })

  it('a meta value ahead of the model (KV propagation) costs a read, not a decode', async () => {
    await store(modelDoc())
    const { kv } = countingKv()
    await lookup(kv)
    const decodes = modelDecodeCount()
    await env.RULES.put(MODEL_META_KEY, JSON.stringify({ version: 'm-next' }))
    const r = await lookup(kv, later(0))
    await r.settled()
    expect(modelDecodeCount()).toBe(decodes)
  })

  it('a format 1 model is read, and not decoded again while its text is unchanged', async () => {
    await env.RULES.put(MODEL_KEY, JSON.stringify(modelDoc()))
    const { kv } = countingKv() // no meta value: each refresh reads the model
    const first = await lookup(kv)
    expect(ids(first.model)).toEqual(['i1', 'i2', 'i3', 'i4'])
    const decodes = modelDecodeCount()
    const r = await lookup(kv, later(0))
    await r.settled()
    expect(modelDecodeCount()).toBe(decodes)
    expect((await lookup(kv, later(1))).model).toBe(first.model)
  })

  it('a deleted model is dropped; an invalid one keeps the last good model', async () => {
    await store(modelDoc())
    const { kv } = countingKv()
    const first = await lookup(kv)
    await env.RULES.put(MODEL_KEY, 'VENEER-RECS/2 "m-bad"\n{"ids":[]}\n')
    await env.RULES.put(MODEL_META_KEY, JSON.stringify({ version: 'm-bad' }))
    await (await lookup(kv, later(0))).settled()
    const kept = await lookup(kv, later(0))
    expect(kept.model).toBe(first.model)
    await kept.settled()
    await env.RULES.delete(MODEL_KEY)
    await env.RULES.delete(MODEL_META_KEY)
    await (await lookup(kv, later(2))).settled()
    expect((await lookup(kv, later(2))).model).toBeUndefined()
  })
})

describe('a cold isolate never holds a page for the model', () => {
  it('a model read slower than the budget: the page goes on without it, the next one has it', async () => {
    await store(modelDoc())
    const { kv } = countingKv({ key: MODEL_KEY, ms: 300 })
    const t0 = Date.now()
    const first = await lookup(kv, undefined, 30)
    expect(first.model).toBeUndefined()
    expect(Date.now() - t0).toBeLessThan(250)
    await first.settled()
    expect(ids((await lookup(kv)).model)).toEqual(['i1', 'i2', 'i3', 'i4'])
  })

  it('a large format 1 model is decoded after the response, not while a page waits', async () => {
    await env.RULES.put(MODEL_KEY, JSON.stringify(bigDoc(2000, 'm-legacy')))
    const { kv } = countingKv()
    const decodes = modelDecodeCount()
    const first = await lookup(kv, undefined, 5000)
    expect(first.model).toBeUndefined() // not waited for, whatever the budget
    expect(modelDecodeCount()).toBe(decodes)
    await first.settled()
    const next = await lookup(kv)
    expect(next.model?.version).toBe('m-legacy')
    expect(ids(next.model, 'p0')).toHaveLength(4)
  })

  it('a format 2 model of 5,000 items is in use from the first page', async () => {
    await store(bigDoc(5000))
    const { kv } = countingKv()
    const first = await lookup(kv, undefined, 5000)
    expect(first.model?.size).toBe(5000)
    expect(ids(first.model, 'p0')).toEqual(['p1', 'p14', 'p27', 'p40'])
  })
})
