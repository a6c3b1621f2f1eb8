import { describe, expect, it } from 'vitest'
import { contextualContext } from '../../src/context/build'
import type { Decision, PlacementDecision } from '../../src/decide/types'
import { readVisitorState, visitorCookies } from '../../src/identity/visitor-state'
import { Settings } from '../../src/rules/schema'
import { CF, jwtPayload, testEnv } from './helpers'

const settings = Settings.parse({ categories: { product: '/products/?*', bags: ['/products/backpack', '/bags/*'] } })
const T0 = new Date('2026-11-22T10:00:00Z')

function request(path: string, cookie?: string): Request {
  const headers = new Headers()
  if (cookie !== undefined) headers.set('cookie', cookie)
  return new Request(`https://shop.example${path}`, { headers, cf: CF.US } as RequestInit)
}

/** One page view through the two seam functions, as the pipeline calls them. */
async function pageView(path: string, cookie: string | undefined, at: Date, decision?: Decision) {
  const req = request(path, cookie === undefined ? undefined : `veneer_visitor=${cookie}`)
  const state = await readVisitorState(req, testEnv, settings, contextualContext(req, at))
  const set = await visitorCookies(req, testEnv, settings, state, decision)
  const value = /^veneer_visitor=([^;]*)/.exec(set[0] ?? '')?.[1] ?? ''
  return { state, set, value }
}

const exp = (experiment: string, variant: string): PlacementDecision => ({
  placement: `pl-${experiment}`,
  variant,
  experiment,
  reason: { kind: 'experiment', rule: 0, experiment },
})

describe('readVisitorState / visitorCookies', () => {
  it('gives a new visitor a fresh random id, then keeps it', async () => {
    const a = await pageView('/', undefined, T0)
    expect(a.state.visitor).toMatchObject({ isNew: true, sessions: 1, firstSeen: '2026-11-22T10:00:00.000Z' })
    expect(a.state.visitor?.id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    const b = await pageView('/', a.value, new Date(T0.getTime() + 60_000))
    expect(b.state.visitor).toMatchObject({ id: a.state.visitor?.id, isNew: false, sessions: 1 })
    const other = await pageView('/', undefined, T0)
    expect(other.state.visitor?.id).not.toBe(a.state.visitor?.id)
  })

  it('starts a new session after 30 minutes idle, not before', async () => {
    const a = await pageView('/', undefined, T0)
    const b = await pageView('/', a.value, new Date(T0.getTime() + 29 * 60_000))
    expect(b.state.visitor?.sessions).toBe(1)
    const c = await pageView('/', b.value, new Date(T0.getTime() + (29 + 31) * 60_000))
    expect(c.state.visitor?.sessions).toBe(2)
  })

  it('counts page views and every matching category, after the rules have seen the old counts', async () => {
    const a = await pageView('/products/backpack', undefined, T0)
    expect(a.state.behavior).toMatchObject({ pageViews: 0, views: {} })
    const b = await pageView('/products/jacket', a.value, T0)
    expect(b.state.behavior).toMatchObject({ pageViews: 1, views: { product: 1, bags: 1 } })
    expect(jwtPayload(b.value)).toMatchObject({ pv: 2, vw: { product: 2, bags: 1 } })
    // The state the rules saw is not changed by counting this page.
    expect(b.state.behavior?.pageViews).toBe(1)
  })

  it('persists experiment assignments, merged with the sticky ones, and never QA overrides', async () => {
    const decision: Decision = {
      segments: [],
      holdout: false,
      placements: [
        exp('hero-copy', 'bold'),
        { placement: 'promo', variant: 'qa-forced', experiment: 'promo-test', reason: { kind: 'override', by: 'experiment' } },
        { placement: 'greeting', variant: 'evening', reason: { kind: 'rule', rule: 1 } },
      ],
    }
    const a = await pageView('/', undefined, T0, decision)
    expect(jwtPayload(a.value).as).toEqual([['hero-copy', 'bold']])
    const b = await pageView('/', a.value, T0, { segments: [], holdout: false, placements: [exp('cta', 'green')] })
    expect(b.state.assignments).toEqual({ 'hero-copy': 'bold' })
    expect(jwtPayload(b.value).as).toEqual([
      ['hero-copy', 'bold'],
      ['cta', 'green'],
    ])
  })

  it('keeps the cookie under 4 KB: at most 50 assignments, the least recently used go first', async () => {
    let value: string | undefined
    for (let i = 0; i < 70; i++) {
      const long = `experiment-${String(i).padStart(3, '0')}-${'x'.repeat(80)}`
      value = (
        await pageView('/', value, T0, { segments: [], holdout: false, placements: [exp(long, `variant-${'y'.repeat(80)}`)] })
      ).value
    }
    const r = await pageView('/', value, T0, {
      segments: [],
      holdout: false,
      placements: [exp(`experiment-069-${'x'.repeat(80)}`, 'again')],
    })
    const cookie = r.set[0] ?? ''
    expect(cookie.split(';')[0]?.length).toBeLessThan(4000)
    const as = jwtPayload(r.value).as as [string, string][]
    expect(as.length).toBeGreaterThan(5)
    expect(as.length).toBeLessThanOrEqual(50)
    expect(as.at(-1)).toEqual([`experiment-069-${'x'.repeat(80)}`, 'again'])
    expect(as.some(([e]) => e.startsWith('experiment-000'))).toBe(false)
  })

  it('sets nothing and forgets nothing it should not without VISITOR_SECRET', async () => {
    const req = request('/')
    const env = { ...testEnv, VISITOR_SECRET: undefined }
    const state = await readVisitorState(req, env, settings, contextualContext(req, T0))
    expect(state.consent.personalization).toBe(true)
    expect(state.visitor).toBeUndefined()
    expect(await visitorCookies(req, env, settings, state, undefined)).toEqual([])
  })
})
