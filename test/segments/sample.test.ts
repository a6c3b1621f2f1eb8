import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Context } from '../../src/context/types'
import { runRetention } from '../../src/measure/retention'
import { forgetRuleset } from '../../src/rules/store'
import { seededRng } from '../../src/util/random'
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

  it('offers a visitor again, in the same slot with the same priority, when its experiments progressed', () => {
    const offered = new OfferedToday()
    const t1 = offered.offer('a', NOW, 1)
    expect(t1).toBeDefined()
    expect(offered.offer('a', NOW + 1000, 1)).toBeUndefined() // nothing new
    expect(offered.offer('a', NOW + 2000, 2)).toEqual(t1) // converted since: same ticket
    expect(offered.offer('a', NOW + 3000, 2)).toBeUndefined()
    expect(offered.offer('b', NOW, 5)).not.toEqual(t1)
  })

  it('a later state of the same visitor replaces the earlier one, in the buffer and in D1, never the reverse', async () => {
    const ticket = { slot: 7, priority: 0.25 }
    const at = (pv: number, goals: string[]) =>
      sampleEntry({ 'behavior.pageViews': pv }, NOW, Math.random, 2000, [['hero-copy', 'A', goals]], ticket)
    // In the isolate's buffer: the later state (more page views) wins whatever the order.
    const merged = sampleKind.merge(sampleKind.merge(undefined, sampleDay(at(5, ['purchase']))), sampleDay(at(3, [])))
    expect(merged.entries.map((e) => e.exposures)).toEqual([[['hero-copy', 'A', ['purchase']]]])
    // In D1, across flushes: earlier state, later state, then a late-delivered earlier one.
    for (const e of [at(3, []), at(5, ['purchase']), at(4, [])]) await sampleKind.upsert(env.DB, sampleDay(e)).run()
    expect((await stored()).map((r) => [r.row, r.exposures])).toEqual([
      ['{"behavior.pageViews":5}', '[["hero-copy","A",["purchase"]]]'],
    ])
    // Another visitor with a lower priority still takes the slot.
    const other = sampleEntry({ 'behavior.pageViews': 1 }, NOW, Math.random, 2000, [], { slot: 7, priority: 0.1 })
    await sampleKind.upsert(env.DB, sampleDay(other)).run()
    expect((await stored()).map((r) => r.row)).toEqual(['{"behavior.pageViews":1}'])
  })

  it('caps rows per day, and samples the whole day rather than its first hours', async () => {
    // 20 flush windows of 500 visitors each through the kind's merge (as the isolate buffer does),
    // then its one UPSERT per window, with 200 slots a day.
    const rand = seededRng(3)
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

  it('a bounded read takes the lowest slots of every day: a uniform subsample spread over the days', async () => {
    const rand = seededRng(9)
    const days = ['2026-05-30', '2026-05-31', '2026-06-01']
    const stmt = env.DB.prepare('INSERT INTO segment_sample (day, slot, priority, row) VALUES (?1, ?2, 0.5, ?3)')
    const writes: D1PreparedStatement[] = []
    days.forEach((day, d) => {
      // 600 visitors kept that day, in random distinct slots of 2,000.
      const slots = Array.from({ length: 2000 }, (_, i) => i)
      for (let i = 0; i < 600; i++) {
        const j = i + Math.floor(rand() * (2000 - i))
        ;[slots[i], slots[j]] = [slots[j] as number, slots[i] as number]
        writes.push(stmt.bind(day, slots[i] as number, JSON.stringify({ 'behavior.pageViews': d })))
      }
    })
    for (let i = 0; i < writes.length; i += 500) await env.DB.batch(writes.slice(i, i + 500))
    const s = await readSample(env.DB, 3, NOW, 300)
    expect(s.rows).toHaveLength(300)
    expect(s.total).toBe(1800)
    const perDay = [0, 1, 2].map((d) => s.rows.filter((r) => r[0] === d).length)
    for (const n of perDay) expect(n).toBeGreaterThan(70)
    expect((await readSample(env.DB, 3, NOW)).rows).toHaveLength(1800)
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

  it('a visitor who converts after being sampled is updated by a later page view (same isolate)', async () => {
    await env.RULES.put('ruleset', JSON.stringify({ ...RULESET_DOC, settings: { holdoutPercent: 0 } }))
    forgetRuleset(env.RULES)
    const ctx = createExecutionContext()
    const view = async (path: string, cookie: string) => {
      const res = await worker.fetch(
        new Request(`https://shop.example${path}`, { headers: { 'user-agent': DESKTOP_UA, cookie }, cf: BERLIN_CF }),
        directEnv,
        ctx,
      )
      await res.text()
      const set = res.headers.getSetCookie().find((c) => c.startsWith('veneer_visitor='))
      return set === undefined ? cookie : (set.split(';')[0] ?? '')
    }
    let cookie = await view('/', '')
    await flushAggregates(directEnv)
    const first = await stored()
    expect(first).toHaveLength(1)
    expect(JSON.parse(first[0]?.exposures ?? '')[0][2]).toEqual([])
    const ev = await worker.fetch(
      new Request('https://shop.example/__veneer/events', {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ type: 'purchase', value: 20 }),
      }),
      directEnv,
      ctx,
    )
    expect(ev.status).toBeLessThan(300)
    cookie =
      ev.headers
        .getSetCookie()
        .find((c) => c.startsWith('veneer_visitor='))
        ?.split(';')[0] ?? cookie
    cookie = await view('/', cookie)
    await flushAggregates(directEnv)
    await waitOnExecutionContext(ctx)
    const after = await stored()
    // Still one row for the visitor, in the same slot, now with the conversion.
    expect(after.map((r) => r.slot)).toEqual(first.map((r) => r.slot))
    expect(JSON.parse(after[0]?.exposures ?? '')[0][2]).toEqual(['purchase'])
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
