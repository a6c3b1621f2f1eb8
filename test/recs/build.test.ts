import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env as workersEnv } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Env } from '../../src/env'
import { buildRecsModel, MODEL_META_KEY, scheduledRecsBuild } from '../../src/recs/build'
import { CATALOG_KEY } from '../../src/recs/catalog'
import { MODEL_KEY, type RecsModelDoc } from '../../src/recs/model'
import { decodeModel, MODEL_FORMAT, modelDocOf } from '../../src/recs/model-codec'
import type { RecsIndex } from '../../src/recs/model-index'
import worker from '../../src/worker'

const env = workersEnv as unknown as Env & { RULES: KVNamespace; DB: D1Database }
const NOW = Date.UTC(2026, 10, 30, 3, 17)
const day = (daysAgo: number) => new Date(NOW - daysAgo * 86_400_000).toISOString().slice(0, 10)

const CATALOG = {
  version: 'c-test',
  items: [
    { id: 'a', title: 'A', url: '/p/a', category: 'x' },
    { id: 'b', title: 'B', url: '/p/b', category: 'x' },
    { id: 'c', title: 'C', url: '/p/c', category: 'y' },
    { id: 'd', title: 'D', url: '/p/d', category: 'y' },
  ],
}

async function seedCounts(): Promise<void> {
  await env.DB.exec('DELETE FROM recs_counts')
  const rows: [string, string, string, string, number][] = [
    // views: a 10 (ten days ago), b 10 (today), c 38 + 2, d 5 (today), e 100 (not in the catalog)
    [day(10), 'view', 'a', '', 10],
    [day(0), 'view', 'b', '', 10],
    [day(10), 'view', 'c', '', 38],
    [day(0), 'view', 'c', '', 2],
    [day(0), 'view', 'd', '', 5],
    [day(3), 'view', 'e', '', 100],
    // pairs
    [day(10), 'view', 'a', 'b', 8],
    [day(10), 'view', 'a', 'c', 10],
    [day(0), 'view', 'c', 'd', 4],
    [day(0), 'view', 'b', 'c', 2],
    [day(3), 'view', 'a', 'e', 50],
    // cart adds and purchases
    [day(1), 'buy', 'a', '', 3],
    [day(1), 'buy', 'b', '', 2],
    [day(1), 'buy', 'a', 'b', 2],
    // outside the 28-day window: ignored, and purged
    [day(40), 'view', 'd', '', 1000],
    [day(40), 'view', 'c', 'd', 1000],
  ]
  const insert = env.DB.prepare('INSERT INTO recs_counts (day, kind, a, b, count) VALUES (?1, ?2, ?3, ?4, ?5)')
  await env.DB.batch(rows.map((r) => insert.bind(...r)))
}

beforeEach(async () => {
  await seedCounts()
  await env.RULES.put(CATALOG_KEY, JSON.stringify(CATALOG))
  await env.RULES.delete(MODEL_KEY)
  await env.RULES.delete(MODEL_META_KEY)
})

async function storedModel(): Promise<RecsModelDoc> {
  const text = await env.RULES.get(MODEL_KEY, 'text')
  expect(text).not.toBeNull()
  const index = decodeModel(text as string)
  expect(index).toBeDefined()
  return modelDocOf(index as RecsIndex)
}

describe('the scheduled model build', () => {
  it('turns the counters into cosine neighbours, trending and popular lists in one KV value', async () => {
    const out = await buildRecsModel(env, NOW)
    expect(out).toMatchObject({ ok: true, items: 4 })
    const m = await storedModel()
    // cosine c(a,b)/sqrt(n(a)n(b)): a-b 8/√(10·10) = 0.8; a-c 10/√(10·40) = 0.5;
    // c-d 4/√(40·5) = 0.282843; b-c 2/√(10·40) = 0.1. e is not in the catalog.
    expect(m.alsoViewed).toEqual({
      a: [
        ['b', 0.8],
        ['c', 0.5],
      ],
      b: [
        ['a', 0.8],
        ['c', 0.1],
      ],
      c: [
        ['a', 0.5],
        ['d', 0.282843],
        ['b', 0.1],
      ],
      d: [['c', 0.282843]],
    })
    expect(m.alsoBought).toEqual({ a: [['b', 0.816497]], b: [['a', 0.816497]] }) // 2/√(3·2)
    expect(m.popular).toEqual(['c', 'a', 'b', 'd'])
    expect(m.popularByCategory).toEqual({ x: ['a', 'b'], y: ['c', 'd'] })
    // Excess views in the last 2 of 28 days: b 10 − 10·2/28 = 9.29, d 5 − 5·2/28 = 4.64;
    // c 2 − 40·2/28 < 0 and a has no recent views.
    expect(m.trending).toEqual(['b', 'd'])
    expect(m.version).toBe('m-20261130T031700Z')
    expect(m.catalogVersion).toBe('c-test')
    expect(m.items.map((i) => i.id)).toEqual(['a', 'b', 'c', 'd'])
    // Stored compactly (format 2), and the meta a Worker's refresh checks first names the version.
    expect((await env.RULES.get(MODEL_KEY, 'text'))?.startsWith('VENEER-RECS/2 "m-20261130T031700Z"\n')).toBe(true)
    expect(JSON.parse((await env.RULES.get(MODEL_META_KEY, 'text')) ?? 'null')).toEqual({
      version: 'm-20261130T031700Z',
      builtAt: '2026-11-30T03:17:00.000Z',
      format: MODEL_FORMAT,
    })
    const old = await env.DB.prepare('SELECT COUNT(*) AS n FROM recs_counts WHERE day < ?1').bind(day(28)).first<{ n: number }>()
    expect(old?.n).toBe(0)
  })

  it('runs from the Worker’s scheduled handler', async () => {
    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ scheduledTime: NOW, cron: '17 3 * * *' }), env, ctx)
    await waitOnExecutionContext(ctx)
    expect((await storedModel()).popular).toEqual(['c', 'a', 'b', 'd'])
  })

  it('a cron tick within the hour of the last build skips it; an hour later it rebuilds', async () => {
    expect(await scheduledRecsBuild(env, NOW)).toMatchObject({ ok: true, version: 'm-20261130T031700Z' })
    expect(await scheduledRecsBuild(env, NOW + 5 * 60_000)).toEqual({ ok: true, skipped: true })
    expect(await scheduledRecsBuild(env, NOW + 60 * 60_000)).toMatchObject({ ok: true, version: 'm-20261130T041700Z' })
  })

  it('a model from the first release (format 1 meta) is rebuilt at the next tick, whatever its age', async () => {
    await env.RULES.put(MODEL_KEY, '{"version":"m-old","items":[]}')
    await env.RULES.put(MODEL_META_KEY, JSON.stringify({ version: 'm-old', builtAt: new Date(NOW - 60_000).toISOString() }))
    expect(await scheduledRecsBuild(env, NOW)).toMatchObject({ ok: true, version: 'm-20261130T031700Z' })
    expect(await scheduledRecsBuild(env, NOW + 5 * 60_000)).toEqual({ ok: true, skipped: true })
  })

  it('without a catalog nothing is written (the placements stay generic)', async () => {
    await env.RULES.delete(CATALOG_KEY)
    expect(await buildRecsModel(env, NOW)).toEqual({ ok: false, reason: 'no_catalog' })
    expect(await env.RULES.get(MODEL_KEY)).toBeNull()
  })
})
