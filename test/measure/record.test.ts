import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Context } from '../../src/context/types'
import type { Decision } from '../../src/decide/types'
import { newVisitorRecord, type VisitorRecord } from '../../src/identity/visitor-token'
import { flushAggregates } from '../../src/measure/aggregate'
import { measurementKey, visitorHasher } from '../../src/measure/hash'
import { MAX_MEMO_GOALS } from '../../src/measure/memory'
import { mayRecordPageView, pageViewRows, recordPageView, recordVisitorEvent, visitorMeasure } from '../../src/measure/record'
import { readIdentity } from '../../src/identity/state'
import type { Env } from '../../src/env'
import type { StatsRow } from '../../src/measure/stats-row'
import { conversionsOf } from '../../src/measure/visit'
import { clearTables, compiled, decision, directEnv, env, RULESET_DOC, rows, visitorContext } from './helpers'

const rs = compiled()
const T0 = Date.parse('2026-06-01T12:00:00Z')

/** The statistics rows only, as `[experiment, arm, goal, segment, figures…]` for readable asserts. */
const brief = (list: StatsRow[]) =>
  list.map((r) => [r.experiment, r.arm, r.goal, r.segment, r.visitors, r.conversions, r.sumValue, r.sumValue2, r.sumX, r.sumXY])

function view(record: VisitorRecord | undefined, ctx: Context, d: Decision, at = T0) {
  return pageViewRows(rs, ctx, d, record, at)
}

beforeEach(async () => {
  await clearTables(env.DB)
})
afterEach(() => vi.restoreAllMocks())

describe('counting at the edge', () => {
  it('counts an exposure once per visitor and experiment, with the covariate x = page views before it', () => {
    const record = newVisitorRecord(T0 / 1000)
    record.behavior.pageViews = 4
    const ctx = visitorContext({ id: record.id })
    const first = view(record, ctx, decision(rs, ctx, 'bold'))
    expect(brief(first.stats)).toEqual([
      ['hero-copy', 'bold', '', '*', 1, 0, 0, 0, 4, 0],
      ['__holdout__', 'personalized', '', '*', 1, 0, 0, 0, 4, 0],
    ])
    // Later views, even with another arm decided, add nothing: the cookie remembers.
    record.behavior.pageViews = 9
    expect(view(record, ctx, decision(rs, ctx, 'control')).stats).toEqual([])
    expect(record.memos?.map((m) => [m.experiment, m.arm, m.x])).toEqual([
      ['hero-copy', 'bold', 4],
      ['__holdout__', 'personalized', 4],
    ])
  })

  it('keeps one row per segment matched at exposure beside the all-visitors row', () => {
    const record = newVisitorRecord(T0 / 1000)
    const ctx = visitorContext({ id: record.id, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile' })
    const out = view(record, ctx, decision(rs, ctx, 'bold'))
    expect(out.stats.filter((r) => r.experiment === 'hero-copy').map((r) => r.segment)).toEqual(['*', 'mobile'])
  })

  it('a conversion counts once per visitor, goal and experiment; value totals add exactly (Σv, Σv²)', () => {
    const record = newVisitorRecord(T0 / 1000)
    record.behavior.pageViews = 2
    const ctx = visitorContext({ id: record.id })
    view(record, ctx, decision(rs, ctx, 'bold'))
    const v = visitorMeasure(record)
    const hero = (list: StatsRow[]) => brief(list.filter((r) => r.experiment === 'hero-copy'))
    expect(hero(conversionsOf(v, ['purchase'], 10, T0 + 1))).toEqual([
      ['hero-copy', 'bold', 'purchase', '*', 0, 1, 10, 100, 0, 2],
    ])
    // The visitor's total goes 10 → 30: Σv += 20, Σv² += 30² − 10² = 800; no second conversion.
    expect(hero(conversionsOf(v, ['purchase'], 20, T0 + 2))).toEqual([
      ['hero-copy', 'bold', 'purchase', '*', 0, 0, 20, 800, 0, 0],
    ])
    expect(hero(conversionsOf(v, ['purchase'], undefined, T0 + 3))).toEqual([])
    // A path goal reached on a page view.
    const thanks = visitorContext({ id: record.id, path: '/thanks' })
    expect(hero(view(record, thanks, decision(rs, thanks, 'bold')).stats)).toEqual([
      ['hero-copy', 'bold', 'signup', '*', 0, 1, 0, 0, 0, 2],
    ])
  })

  it('remembers a bounded number of goals per experiment', () => {
    const record = newVisitorRecord(T0 / 1000)
    const ctx = visitorContext({ id: record.id })
    view(record, ctx, decision(rs, ctx, 'bold'))
    const goals = Array.from({ length: MAX_MEMO_GOALS + 5 }, (_, i) => `g${i}`)
    const out = conversionsOf(visitorMeasure(record), goals, undefined, T0)
    expect(out.filter((r) => r.experiment === 'hero-copy')).toHaveLength(MAX_MEMO_GOALS)
  })

  it('a page view converts only experiments already counted: no exposure, no conversion', () => {
    const record = newVisitorRecord(T0 / 1000)
    const thanks = visitorContext({ id: record.id, path: '/thanks' })
    expect(conversionsOf(visitorMeasure(record), ['signup'], undefined, T0)).toEqual([])
    // Without a record (no personalization consent) only the anonymous served counters remain.
    const out = view(undefined, thanks, decision(rs, thanks, 'bold'))
    expect(out.stats).toEqual([])
    expect(out.served.map((s) => [s.placement, s.variant, s.source])).toEqual([
      ['hero', 'bold', 'experiment'],
      ['promo', 'control', 'default'],
    ])
  })

  it('QA decisions, bots and visitors without analytics consent record nothing', () => {
    const ctx = visitorContext({ id: 'qa' })
    const forced = decision(rs, ctx, 'bold', { override: () => ({ variant: 'bold', by: 'experiment' }) })
    expect(mayRecordPageView(ctx, forced)).toBe(false)
    expect(view(newVisitorRecord(T0 / 1000), ctx, forced).served.map((s) => s.placement)).toEqual(['promo'])
    const bot = visitorContext({ id: 'b', userAgent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' })
    expect(mayRecordPageView(bot, decision(rs, bot, 'bold'))).toBe(false)
    const refused = visitorContext({ id: 'c', consent: { analytics: false } })
    expect(mayRecordPageView(refused, decision(rs, refused, 'bold'))).toBe(false)
  })
})

describe('without DB or EVENTS bound', () => {
  it('builds no rows and leaves the visitor memory alone, so a later binding still counts them', async () => {
    const unbound: Env = { ...env, DB: undefined, EVENTS: undefined }
    const identity = await readIdentity(new Headers(), env, rs.settings, undefined, new Date(T0))
    const record = identity.record!
    const ctx = visitorContext({ id: record.id })
    recordPageView(unbound, () => undefined, rs, ctx, decision(rs, ctx, 'bold'), identity.state)
    recordVisitorEvent(unbound, () => undefined, rs, record, { type: 'purchase', value: 10 })
    expect(record.memos ?? []).toEqual([])
    const later: Promise<unknown>[] = []
    recordPageView(directEnv, (p) => later.push(p), rs, ctx, decision(rs, ctx, 'bold'), identity.state)
    expect(record.memos?.map((m) => [m.experiment, m.arm])).toEqual([
      ['hero-copy', 'bold'],
      ['__holdout__', 'personalized'],
    ])
    await flushAggregates(directEnv)
    await Promise.all(later)
  })
})

describe('raw rows (settings.measurement.rawEvents)', () => {
  it('are written only when the ruleset asks, keyed by a hash of the visitor id', async () => {
    const withRaw = compiled({ ...RULESET_DOC, settings: { ...RULESET_DOC.settings, measurement: { rawEvents: true } } })
    const pending: Promise<unknown>[] = []
    const waitUntil = (p: Promise<unknown>) => void pending.push(p)
    for (const [ruleset, id] of [
      [rs, 'no-raw'],
      [withRaw, 'raw-visitor'],
    ] as const) {
      const record = newVisitorRecord(T0 / 1000)
      record.id = id.padEnd(22, 'x')
      const ctx = visitorContext({ id: record.id })
      pageViewRows(ruleset, ctx, decision(ruleset, ctx, 'bold'), record, T0)
      recordVisitorEvent(directEnv, waitUntil, ruleset, record, { type: 'purchase', value: 5 }, T0)
    }
    await Promise.all(pending)
    await flushAggregates(directEnv)
    const raw = await rows(env.DB, 'conversions')
    const hash = await visitorHasher(env.VISITOR_SECRET)?.('raw-visitor'.padEnd(22, 'x'))
    // Only the raw-events ruleset wrote rows; no raw id reaches D1.
    expect(raw.length).toBeGreaterThan(0)
    expect(raw.every((r) => r.visitor === hash)).toBe(true)
    expect(JSON.stringify(raw)).not.toContain('raw-visitor')
  })
})

describe('visitor hash key', () => {
  it('uses VISITOR_SECRET, or its first key when it lists several as kid:secret', async () => {
    expect(measurementKey('plain-secret')).toBe('plain-secret')
    expect(measurementKey('k2:new-secret, k1:old-secret')).toBe('new-secret')
    expect(measurementKey('')).toBeUndefined()
    expect(measurementKey(undefined)).toBeUndefined()
    const a = visitorHasher('k2:new-secret,k1:old')
    const b = visitorHasher('new-secret')
    expect(await a?.('v')).toBe(await b?.('v'))
    expect(await visitorHasher('other')?.('v')).not.toBe(await b?.('v'))
  })
})
