import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Env } from '../../src/env'
import { measurementKey, visitorHasher } from '../../src/measure/hash'
import { measurePageView, measureVisitorEvent, recordPageView, recordVisitorEvent } from '../../src/measure/record'
import { clearTables, compiled, decision, directEnv, env, rows, RULESET_DOC, visitorContext } from './helpers'

const rs = compiled()
const T0 = Date.parse('2026-06-01T12:00:00Z')

async function hashOf(id: string): Promise<string> {
  const h = visitorHasher(env.VISITOR_SECRET)
  if (h === undefined) throw new Error('VISITOR_SECRET missing in the test config')
  return h(id)
}

async function view(
  e: Env,
  opts: Parameters<typeof visitorContext>[0],
  arm: string | undefined,
  at: number,
  holdout = false,
): Promise<void> {
  const ctx = visitorContext(opts)
  await measurePageView(e, rs, ctx, decision(rs, ctx, arm, { holdout }), at)
}

beforeEach(async () => {
  await clearTables(env.DB)
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe('exposures', () => {
  it('records the first exposure of a consenting visitor, keyed by a hash of the visitor id', async () => {
    await view(directEnv, { id: 'alice' }, 'bold', T0)
    const hash = await hashOf('alice')
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(await rows(env.DB, 'exposures')).toEqual([
      { visitor: hash, experiment: '__holdout__', variant: 'personalized', placement: 'hero', exposed_at: T0 },
      { visitor: hash, experiment: 'hero-copy', variant: 'bold', placement: 'hero', exposed_at: T0 },
    ])
    // Raw ids never reach D1.
    const all = JSON.stringify([await rows(env.DB, 'exposures'), await rows(env.DB, 'conversions'), await rows(env.DB, 'served')])
    expect(all).not.toContain('alice')
  })

  it('keeps one exposure per visitor and experiment: the first variant wins', async () => {
    await view(directEnv, { id: 'alice' }, 'bold', T0)
    await view(directEnv, { id: 'alice' }, 'control', T0 + 1000)
    await view(directEnv, { id: 'alice' }, 'bold', T0 + 2000)
    const hero = (await rows(env.DB, 'exposures')).filter((r) => r.experiment === 'hero-copy')
    expect(hero).toEqual([expect.objectContaining({ variant: 'bold', exposed_at: T0 })])
  })

  it('records nothing at all without analytics consent', async () => {
    await view(directEnv, { id: 'bob', consent: { analytics: false } }, 'bold', T0)
    await view(directEnv, { id: 'bob', consent: { analytics: false }, path: '/thanks' }, 'bold', T0)
    for (const t of ['exposures', 'conversions', 'served'] as const) expect(await rows(env.DB, t)).toEqual([])
  })

  it('without a visitor id only the anonymous served counters are kept: no exposure, no conversion', async () => {
    // Without personalization consent the context carries no visitor (SPEC 5).
    await view(directEnv, { id: 'bob', consent: { personalization: false } }, 'bold', T0)
    const ctx = visitorContext({ id: 'bob', path: '/thanks' })
    await measurePageView(directEnv, rs, { ...ctx, visitor: undefined }, decision(rs, ctx, 'bold'), T0)
    expect(await rows(env.DB, 'exposures')).toEqual([])
    expect(await rows(env.DB, 'conversions')).toEqual([])
    expect((await rows(env.DB, 'served')).map((r) => [r.placement, r.variant, r.count])).toEqual([
      ['hero', 'bold', 2],
      ['promo', 'control', 2],
    ])
  })

  it('records nothing for QA overrides or bots', async () => {
    const ctx = visitorContext({ id: 'qa' })
    const forced = decision(rs, ctx, 'bold', { override: () => ({ variant: 'bold', by: 'experiment' }) })
    await measurePageView(directEnv, rs, ctx, forced, T0)
    await view(
      directEnv,
      { id: 'crawler', userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' },
      'bold',
      T0,
    )
    for (const t of ['exposures', 'served'] as const) expect(await rows(env.DB, t)).toEqual([])
  })

  it('an experiment the visitor did not enter is not an exposure, but the control served is counted', async () => {
    await view(directEnv, { id: 'carol' }, undefined, T0)
    expect((await rows(env.DB, 'exposures')).map((r) => r.experiment)).toEqual(['__holdout__'])
    expect(await rows(env.DB, 'served')).toEqual([
      { day: '2026-06-01', placement: 'hero', variant: 'control', source: 'experiment-skipped', count: 1 },
      { day: '2026-06-01', placement: 'promo', variant: 'control', source: 'default', count: 1 },
    ])
  })

  it('counts fixed-rule servings per placement, variant and day', async () => {
    const mobile =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
    await view(directEnv, { id: 'm1', userAgent: mobile, path: '/products/1' }, undefined, T0)
    await view(directEnv, { id: 'm2', userAgent: mobile, path: '/products/2' }, undefined, T0 + 1)
    await view(directEnv, { id: 'm1', userAgent: mobile, path: '/products/1' }, undefined, T0 + 86_400_000)
    await view(directEnv, { id: 'd1', path: '/products/1' }, undefined, T0)
    expect(await rows(env.DB, 'served')).toEqual([
      { day: '2026-06-01', placement: 'promo', variant: 'control', source: 'default', count: 1 },
      { day: '2026-06-01', placement: 'promo', variant: 'sale', source: 'rule', count: 2 },
      { day: '2026-06-02', placement: 'promo', variant: 'sale', source: 'rule', count: 1 },
    ])
    // Fixed rules are not experiments: no exposure rows for them, and /products has no hero.
    expect((await rows(env.DB, 'exposures')).map((r) => r.experiment)).toEqual(['__holdout__', '__holdout__', '__holdout__'])
  })
})

describe('holdout', () => {
  it('records held-out visitors as holdout and others as personalized in __holdout__', async () => {
    await view(directEnv, { id: 'held' }, 'bold', T0, true)
    await view(directEnv, { id: 'shown' }, 'bold', T0)
    const exp = await rows(env.DB, 'exposures')
    const byVariant = (v: string) => exp.filter((r) => r.experiment === '__holdout__' && r.variant === v).length
    expect([byVariant('holdout'), byVariant('personalized')]).toEqual([1, 1])
    // The held-out visitor saw control everywhere and entered no experiment.
    expect(exp.filter((r) => r.experiment === 'hero-copy')).toHaveLength(1)
    expect((await rows(env.DB, 'served')).filter((r) => r.source === 'holdout')).toHaveLength(2)
  })

  it('records no holdout group when no holdout is configured', async () => {
    const noHoldout = compiled({ ...RULESET_DOC, settings: { holdoutPercent: 0 } })
    const ctx = visitorContext({ id: 'dave' })
    await measurePageView(directEnv, noHoldout, ctx, decision(noHoldout, ctx, 'bold'), T0)
    expect((await rows(env.DB, 'exposures')).map((r) => r.experiment)).toEqual(['hero-copy'])
  })
})

describe('conversions', () => {
  it('a path goal served to an exposed visitor converts for every experiment they saw', async () => {
    await view(directEnv, { id: 'erin' }, 'bold', T0)
    await view(directEnv, { id: 'erin', path: '/thanks' }, 'control', T0 + 5000)
    const hash = await hashOf('erin')
    expect(await rows(env.DB, 'conversions')).toEqual([
      { visitor: hash, experiment: '__holdout__', variant: 'personalized', goal: 'signup', converted_at: T0 + 5000, value: null },
      { visitor: hash, experiment: 'hero-copy', variant: 'bold', goal: 'signup', converted_at: T0 + 5000, value: null },
    ])
  })

  it('event goals match by the goal event name, the event goal field, or the goal id; value is kept', async () => {
    await view(directEnv, { id: 'fay' }, 'bold', T0)
    await view(directEnv, { id: 'gus' }, 'control', T0)
    await view(directEnv, { id: 'hal' }, 'bold', T0)
    await measureVisitorEvent(directEnv, rs, 'fay', { type: 'purchase', value: 49.5 }, T0 + 1)
    await measureVisitorEvent(directEnv, rs, 'gus', { type: 'custom', goal: 'purchase' }, T0 + 1)
    await measureVisitorEvent(directEnv, rs, 'hal', { type: 'cart_add' }, T0 + 1) // reaches no goal
    await measureVisitorEvent(directEnv, rs, 'hal', { type: 'signup' }, T0 + 1) // a path goal: not claimable by an event
    const conv = (await rows(env.DB, 'conversions')).filter((r) => r.experiment === 'hero-copy')
    const fay = await hashOf('fay')
    const gus = await hashOf('gus')
    expect(conv.map((r) => [r.visitor, r.variant, r.goal, r.value]).sort()).toEqual(
      [
        [fay, 'bold', 'purchase', 49.5],
        [gus, 'control', 'purchase', null],
      ].sort(),
    )
  })

  it('attributes a conversion only to exposures at or before it', async () => {
    await measureVisitorEvent(directEnv, rs, 'ivy', { type: 'purchase' }, T0) // not exposed yet: nothing to attribute
    expect(await rows(env.DB, 'conversions')).toEqual([])
    await view(directEnv, { id: 'ivy' }, 'bold', T0 + 1000)
    // An event from before the exposure that arrives late (a slow queue) is not attributed either.
    await measureVisitorEvent(directEnv, rs, 'ivy', { type: 'purchase' }, T0 + 999)
    expect(await rows(env.DB, 'conversions')).toEqual([])
    await measureVisitorEvent(directEnv, rs, 'ivy', { type: 'purchase' }, T0 + 2000)
    expect((await rows(env.DB, 'conversions')).map((r) => [r.experiment, r.converted_at])).toEqual([
      ['__holdout__', T0 + 2000],
      ['hero-copy', T0 + 2000],
    ])
  })

  it('keeps one conversion per visitor, goal and experiment (the first)', async () => {
    await view(directEnv, { id: 'jo' }, 'bold', T0)
    for (let i = 1; i <= 3; i++) await measureVisitorEvent(directEnv, rs, 'jo', { type: 'purchase', value: i }, T0 + i)
    const conv = (await rows(env.DB, 'conversions')).filter((r) => r.experiment === 'hero-copy')
    expect(conv).toEqual([expect.objectContaining({ goal: 'purchase', converted_at: T0 + 1, value: 1 })])
  })
})

describe('the recording seams', () => {
  it('recordPageView and recordVisitorEvent hand their work to waitUntil and return at once', async () => {
    const pending: Promise<unknown>[] = []
    const waitUntil = (p: Promise<unknown>) => void pending.push(p)
    const ctx = visitorContext({ id: 'kim' })
    expect(recordPageView(directEnv, waitUntil, rs, ctx, decision(rs, ctx, 'bold'))).toBeUndefined()
    expect(pending).toHaveLength(1)
    await Promise.all(pending)
    recordVisitorEvent(directEnv, waitUntil, rs, 'kim', { type: 'purchase' })
    expect(pending).toHaveLength(2)
    await Promise.all(pending)
    expect((await rows(env.DB, 'conversions')).length).toBe(2)
    // Without consent nothing is even scheduled.
    const noConsent = visitorContext({ id: 'kim', consent: { analytics: false } })
    recordPageView(directEnv, waitUntil, rs, noConsent, decision(rs, noConsent, 'bold'))
    expect(pending).toHaveLength(2)
  })

  it('records nothing without VISITOR_SECRET, and nothing without DB or EVENTS (no throw)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    await view({ ...directEnv, VISITOR_SECRET: undefined }, { id: 'lee' }, 'bold', T0)
    await view({ ...directEnv, DB: undefined }, { id: 'lee' }, 'bold', T0)
    expect(await rows(env.DB, 'exposures')).toEqual([])
    expect(warn.mock.calls.flat().join('\n')).not.toContain('lee')
  })

  it('a D1 failure is logged with a code (no visitor data) and never rejects', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    await env.DB.exec('ALTER TABLE exposures RENAME TO exposures_away')
    try {
      const pending: Promise<unknown>[] = []
      const ctx = visitorContext({ id: 'secret-visitor-42' })
      recordPageView(directEnv, (p) => void pending.push(p), rs, ctx, decision(rs, ctx, 'bold'))
      await expect(Promise.all(pending)).resolves.toBeDefined()
      await expect(measureVisitorEvent(directEnv, rs, 'secret-visitor-42', { type: 'purchase' })).resolves.toBeUndefined()
    } finally {
      await env.DB.exec('ALTER TABLE exposures_away RENAME TO exposures')
    }
    const logged = error.mock.calls.flat().join('\n')
    expect(logged).toContain('measure_page_view_failed')
    expect(logged).toContain('measure_event_failed')
    expect(logged).not.toContain('secret-visitor-42')
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
