import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Context } from '../../src/context/types'
import { runRetention } from '../../src/measure/retention'
import { forgetRuleset } from '../../src/rules/store'
import { seededRandom } from '../../src/segments/cluster'
import { consumeAggregateBatch, flushAggregates } from '../../src/measure/aggregate'
import '../../src/measure/kinds'
import {
  OfferedToday,
  readSample,
  MAX_DAY_ENTRIES,
  type SampleDay,
  sampleDay,
  sampleEntry,
  sampleFromRows,
  sampleKind,
  sampleRowOf,
} from '../../src/segments/sample'
import { readExposedSample } from '../../src/segments/proposed'
import worker from '../../src/worker'
import { BERLIN_CF, DESKTOP_UA, directEnv, env, RULESET_DOC, visitorContext } from '../measure/helpers'

const NOW = Date.UTC(2026, 5, 1, 12)

async function clearSample(): Promise<void> {
  await env.DB.prepare('DELETE FROM segment_sample').run()
}
async function stored(): Promise<{ day: string; slot: number; row: string; exposures: string }[]> {
  const { results } = await env.DB.prepare('SELECT day, slot, row, exposures FROM segment_sample ORDER BY day, slot').all<{
    day: string
    slot: number
    row: string
    exposures: string
  }>()
  return results
}

beforeEach(clearSample)

describe('sample rows', () => {
  it('hold what the edge knows of a consenting visitor, and no id', () => {
    const ctx: Context = {
      ...visitorContext({ id: 'visitor-abc' }),
      behavior: { pageViews: 7, views: { product: 3 }, cartAdds: 1, purchases: 0 },
    }
    const row = sampleRowOf(ctx, ['product', 'checkout'], NOW)
    expect(row).toEqual({
      'behavior.pageViews': 7,
      'behavior.cartAdds': 1,
      'behavior.purchases': 0,
      'behavior.views.product': 3,
      'behavior.views.checkout': 0,
      'visitor.sessions': 1,
      'visitor.daysSinceFirstSeen': 31,
      'device.type': 'desktop',
      'geo.continent': 'EU',
    })
    expect(JSON.stringify(row)).not.toContain('visitor-abc')
  })

  it('are not taken without analytics consent, for bots, or without a visitor', () => {
    const base = { ...visitorContext(), behavior: { pageViews: 1, views: {}, cartAdds: 0, purchases: 0 } }
    expect(sampleRowOf({ ...base, consent: { ...base.consent, analytics: false } }, [], NOW)).toBeUndefined()
    expect(sampleRowOf({ ...base, device: { ...base.device, isBot: true } }, [], NOW)).toBeUndefined()
    expect(sampleRowOf({ ...base, visitor: undefined }, [], NOW)).toBeUndefined()
  })

  it('become one-hot columns for device and continent when read back', () => {
    const s = sampleFromRows([
      { 'behavior.pageViews': 2, 'device.type': 'mobile', 'geo.continent': 'EU' },
      { 'behavior.pageViews': 5, 'device.type': 'desktop' },
    ])
    expect(s.features.map((f) => f.name)).toEqual([
      'behavior.pageViews',
      'device.type=desktop',
      'device.type=mobile',
      'geo.continent=EU',
    ])
    expect(s.rows).toEqual([
      [2, 0, 1, 1],
      [5, 1, 0, 0],
    ])
  })
})

describe('aggregation before storage', () => {
  it('offers each visitor once per isolate and UTC day', () => {
    const offered = new OfferedToday()
    expect(offered.first('a', NOW)).toBe(true)
    expect(offered.first('a', NOW + 1000)).toBe(false)
    expect(offered.first('b', NOW)).toBe(true)
    expect(offered.first('a', NOW + 86_400_000)).toBe(true)
  })

  it('caps rows per day, and samples the whole day rather than its first hours', async () => {
    // 20 flush windows of 500 visitors each through the kind's merge (as the isolate buffer does),
    // then its one UPSERT per window, with 200 slots a day.
    const rand = seededRandom(3)
    for (let w = 0; w < 20; w++) {
      let day: SampleDay | undefined
      for (let i = 0; i < 500; i++) day = sampleKind.merge(day, sampleDay(sampleEntry({ window: w }, NOW, rand, 200)))
      if (day === undefined) throw new Error('no row')
      expect(day.entries.length).toBe(MAX_DAY_ENTRIES)
      expect(JSON.stringify(day).length).toBeLessThan(60_000)
      await sampleKind.upsert(env.DB, day).run()
    }
    const rows = await stored()
    expect(rows.length).toBeLessThanOrEqual(200)
    expect(rows.length).toBeGreaterThan(190)
    const windows = rows.map((r) => (JSON.parse(r.row) as { window: number }).window)
    const late = windows.filter((w) => w >= 10).length / windows.length
    // Uniform over the day: about half from the second half (first-N would keep none, last-writer-wins nearly all).
    expect(late).toBeGreaterThan(0.38)
    expect(late).toBeLessThan(0.62)
  })

  it('rows from the queue are checked before they are stored', async () => {
    const entry = { slot: 3, priority: 0.5, row: { 'behavior.pageViews': 2, 'device.type': 'mobile' } }
    const good = { day: '2026-06-01', entries: [entry] }
    expect(sampleKind.parse(good)).toEqual({ day: '2026-06-01', entries: [{ day: '2026-06-01', ...entry, exposures: [] }] })
    expect(sampleKind.parse({ ...good, entries: [{ ...entry, slot: 99_999 }] })).toBeUndefined()
    expect(sampleKind.parse({ ...good, entries: [{ ...entry, priority: 2 }] })).toBeUndefined()
    expect(sampleKind.parse({ ...good, entries: [{ ...entry, row: { 'x y': 1 } }] })).toBeUndefined()
    expect(sampleKind.parse({ ...good, entries: [{ ...entry, row: { a: { nested: 1 } } }] })).toBeUndefined()
    expect(sampleKind.parse({ ...good, day: 'yesterday' })).toBeUndefined()
    const withExposures = { ...entry, exposures: [['hero-copy', 'A', ['purchase']]] }
    expect(sampleKind.parse({ ...good, entries: [withExposures] })?.entries[0]?.exposures).toEqual([
      ['hero-copy', 'A', ['purchase']],
    ])
    for (const bad of [[['x y', 'A', []]], [['t', 'A', [1]]], [['t', 'A']], 'x', Array.from({ length: 9 }, () => ['t', 'A', []])])
      expect(sampleKind.parse({ ...good, entries: [{ ...entry, exposures: bad }] })).toBeUndefined()
    const acked: string[] = []
    const batch = {
      messages: [{ body: { v: 2, kind: 'sample', rows: [good, { ...good, entries: [{ ...entry, slot: -1 }] }] } }],
      ackAll: () => acked.push('ack'),
      retryAll: () => acked.push('retry'),
    } as unknown as MessageBatch<unknown>
    await consumeAggregateBatch(batch, directEnv)
    expect(acked).toEqual(['ack'])
    expect((await stored()).map((r) => [r.day, r.slot])).toEqual([['2026-06-01', 3]])
  })

  it('a page view through the Worker is sampled in the background, without the visitor id', async () => {
    // No holdout, so the visitor is always in the experiment.
    await env.RULES.put('ruleset', JSON.stringify({ ...RULESET_DOC, settings: { holdoutPercent: 0 } }))
    forgetRuleset(env.RULES)
    const ctx = createExecutionContext()
    const res = await worker.fetch(
      new Request('https://shop.example/', { headers: { 'user-agent': DESKTOP_UA }, cf: BERLIN_CF }),
      directEnv,
      ctx,
    )
    await res.text()
    await flushAggregates(directEnv)
    await waitOnExecutionContext(ctx)
    const rows = await stored()
    expect(rows).toHaveLength(1)
    const row = JSON.parse(rows[0]?.row ?? '{}') as Record<string, unknown>
    expect(row['device.type']).toBe('desktop')
    expect(row['visitor.sessions']).toBe(1)
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('veneer_visitor=')) ?? ''
    expect(cookie).not.toBe('')
    // The cookie's claims (the visitor id among them) appear nowhere in the stored row.
    const payload = cookie.split('=')[1]?.split('.')[1] ?? ''
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>
    const secrets = Object.values(claims).filter((v): v is string => typeof v === 'string' && v.length >= 8)
    expect(secrets.length).toBeGreaterThan(0)
    for (const v of secrets) expect(rows[0]?.row).not.toContain(v)
    // The visitor's experiment, arm and goals (none yet) from the measurement memory the cookie
    // carries (`mx`), and nothing else: no id, no covariate, no segment, no time.
    const mx = claims.mx as [string, string, ...unknown[]][]
    const arm = mx.find((m) => m[0] === 'hero-copy')?.[1]
    expect(['control', 'bold']).toContain(arm)
    expect(JSON.parse(rows[0]?.exposures ?? '')).toEqual([['hero-copy', arm, []]])
    for (const v of secrets) expect(rows[0]?.exposures).not.toContain(v)
  })

  it('nothing is sampled without analytics consent (Sec-GPC: 1 refuses it)', async () => {
    await env.RULES.put('ruleset', JSON.stringify(RULESET_DOC))
    forgetRuleset(env.RULES)
    const ctx = createExecutionContext()
    const res = await worker.fetch(
      new Request('https://shop.example/', { headers: { 'user-agent': DESKTOP_UA, 'sec-gpc': '1' }, cf: BERLIN_CF }),
      directEnv,
      ctx,
    )
    await res.text()
    await flushAggregates(directEnv)
    await waitOnExecutionContext(ctx)
    expect(await stored()).toHaveLength(0)
  })

  it('is deleted after retentionDays with the rest of the raw data', async () => {
    const old = new Date(NOW - 100 * 86_400_000).toISOString().slice(0, 10)
    const recent = new Date(NOW - 2 * 86_400_000).toISOString().slice(0, 10)
    await env.DB.batch([
      env.DB.prepare('INSERT INTO segment_sample (day, slot, priority, row, exposures) VALUES (?1, 0, 0.5, ?2, ?3)').bind(
        old,
        '{}',
        '[["hero-copy","A",["purchase"]]]',
      ),
      env.DB.prepare('INSERT INTO segment_sample (day, slot, priority, row, exposures) VALUES (?1, 0, 0.5, ?2, ?3)').bind(
        recent,
        '{}',
        '[["hero-copy","B",[]]]',
      ),
    ])
    await env.RULES.put('ruleset', JSON.stringify({ ...RULESET_DOC, settings: { retentionDays: 30 } }))
    forgetRuleset(env.RULES)
    await runRetention(directEnv, NOW, () => {})
    expect((await stored()).map((r) => [r.day, r.exposures])).toEqual([[recent, '[["hero-copy","B",[]]]']])
    expect((await readSample(env.DB, 7, NOW)).rows).toHaveLength(1)
    // The experiment part goes with its row: only the recent one is read for proposed segments.
    expect(await readExposedSample(env.DB, 'hero-copy', 200, NOW)).toEqual([{ day: recent, row: {}, arm: 'B', goals: [] }])
  })
})
