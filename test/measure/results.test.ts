import { seededRng } from '../../src/util/random'
import { createExecutionContext, SELF, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Env } from '../../src/env'
import { servedKind } from '../../src/measure/served-row'
import { EXPOSURE_GOAL, type StatsRow, statsKind, statsRow } from '../../src/measure/stats-row'
import { utcDay } from '../../src/measure/store'
import type { ExperimentResults } from '../../src/measure/types'
import { forgetRuleset } from '../../src/rules/store'
import worker from '../../src/worker'
import { clearTables, env, RULESET_DOC, storeRows } from './helpers'

const AUTH = { authorization: 'Bearer test-admin-token' }
const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T09:00:00Z')

async function get(path: string, e: Env = env, headers: Record<string, string> = AUTH): Promise<Response> {
  const ctx = createExecutionContext()
  const res = await worker.fetch(new Request(`https://shop.example${path}`, { headers }), e, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

async function results(id: string): Promise<ExperimentResults> {
  const res = await get(`/__veneer/api/results/${id}`)
  expect(res.status).toBe(200)
  expect(res.headers.get('cache-control')).toBe('no-store')
  const text = await res.text()
  expect(text).not.toMatch(/NaN|Infinity/)
  return JSON.parse(text) as ExperimentResults
}

/** Writes a simulated experiment: visitors split by `split`, converting at `rates`, over `days`. */
async function simulate(experiment: string, n: number, arms: [string, number, number][], seed: number, days = 3): Promise<void> {
  const rnd = seededRng(seed)
  const total = arms.reduce((a, [, w]) => a + w, 0)
  const list: StatsRow[] = []
  for (let i = 0; i < n; i++) {
    let u = rnd() * total
    const arm = arms.find(([, w]) => (u -= w) < 0) ?? (arms[arms.length - 1] as [string, number, number])
    const day = utcDay(T0 + Math.floor((i / n) * days) * DAY)
    list.push({ ...statsRow(day, experiment, arm[0], EXPOSURE_GOAL, '*'), visitors: 1 })
    if (rnd() < arm[2])
      list.push({ ...statsRow(day, experiment, arm[0], 'purchase', '*'), conversions: 1, sumValue: 1, sumValue2: 1 })
  }
  await storeRows(env.DB, statsKind, list)
}

beforeAll(async () => {
  await env.RULES.put('ruleset', JSON.stringify(RULESET_DOC))
})
beforeEach(async () => {
  forgetRuleset(env.RULES)
  await clearTables(env.DB)
})

describe('GET /__veneer/api/results/:experimentId', () => {
  it('needs the admin token (through the Worker)', async () => {
    const none = await SELF.fetch('https://shop.example/__veneer/api/results/hero-copy')
    expect(none.status).toBe(401)
    expect(await none.json()).toMatchObject({ error: 'unauthorized' })
    const wrong = await SELF.fetch('https://shop.example/__veneer/api/results/hero-copy', {
      headers: { authorization: 'Bearer nope' },
    })
    expect(wrong.status).toBe(401)
  })

  it('answers 404 JSON for an unknown experiment and 400 for a malformed id', async () => {
    const res = await get('/__veneer/api/results/no-such-experiment')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: 'unknown_experiment', details: expect.stringContaining('no-such-experiment') })
    const bad = await get('/__veneer/api/results/bad%20id')
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: 'invalid_experiment_id' })
  })

  it('answers 503 when no D1 database is bound', async () => {
    const res = await get('/__veneer/api/results/hero-copy', { ...env, DB: undefined })
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ error: 'measurement_disabled' })
  })

  it('a configured experiment without data: every arm, zero visitors, honest notes, no figures', async () => {
    const r = await results('hero-copy')
    expect(r).toMatchObject({ experiment: 'hero-copy', placement: 'hero', control: 'control', srm: null, exposuresByDay: [] })
    expect(r.arms.map((a) => [a.variant, a.visitors, a.expectedShare])).toEqual([
      ['control', 0, 0.5],
      ['bold', 0, 0.5],
    ])
    expect(r.arms[1]?.goals.map((g) => g.goal)).toEqual(['purchase', 'signup'])
    expect(r.arms[1]?.goals[0]).toMatchObject({
      rate: null,
      pValue: null,
      cs95: null,
      note: expect.stringMatching(/no visitors/),
    })
    expect(r.notes).toContain('no exposures recorded yet')
  })

  it('detects a true lift of 10% → 12% over 20,000 visitors stored in D1', async () => {
    await simulate(
      'hero-copy',
      20_000,
      [
        ['control', 50, 0.1],
        ['bold', 50, 0.12],
      ],
      4242,
    )
    const r = await results('hero-copy')
    const [control, bold] = r.arms
    expect((control?.visitors ?? 0) + (bold?.visitors ?? 0)).toBe(20_000)
    const purchase = bold?.goals.find((g) => g.goal === 'purchase')
    expect(purchase?.pValue).toBeLessThan(0.001)
    expect(purchase?.pAdjusted).toBeLessThan(0.002)
    expect(purchase?.lift?.abs).toBeGreaterThan(0.01)
    // The anytime-valid sequence is wider than the fixed interval and still excludes zero here.
    expect(purchase?.cs95?.[0]).toBeGreaterThan(0)
    expect(purchase?.cs95?.[0]).toBeLessThan(purchase?.ci95?.[0] ?? 0)
    expect(r.decision).toBe('ship')
    expect(r.reason).toMatch(/"bold" raises "purchase"/)
    expect(r.history.length).toBe(3)
    expect(purchase?.ci95?.[0]).toBeGreaterThan(0)
    expect(purchase?.ci95?.[0]).toBeLessThan(0.02)
    expect(purchase?.ci95?.[1]).toBeGreaterThan(0.02)
    expect(purchase?.lift?.rel).toBeGreaterThan(0.1)
    // The no-conversions goal stays honest rather than claiming a zero effect.
    expect(bold?.goals.find((g) => g.goal === 'signup')).toMatchObject({
      pValue: null,
      note: expect.stringMatching(/no conversions/),
    })
    expect(r.srm).toMatchObject({ degreesOfFreedom: 1, mismatch: false })
    // exposuresByDay: three days, two arms, summing to every visitor.
    expect(new Set(r.exposuresByDay.map((d) => d.day))).toEqual(new Set(['2026-06-01', '2026-06-02', '2026-06-03']))
    expect(r.exposuresByDay.reduce((a, d) => a + d.visitors, 0)).toBe(20_000)
    console.log(
      `lift simulation: control ${control?.goals[0]?.rate?.toFixed(4)}, bold ${purchase?.rate?.toFixed(4)}, p=${purchase?.pValue?.toExponential(2)}, ci=[${purchase?.ci95?.map((x) => x.toFixed(4)).join(', ')}]`,
    )
  })

  it('flags a sample-ratio mismatch when the stored split departs from the configured one', async () => {
    await simulate(
      'hero-copy',
      4_000,
      [
        ['control', 56, 0.1],
        ['bold', 44, 0.1],
      ],
      7,
    )
    const r = await results('hero-copy')
    expect(r.srm?.mismatch).toBe(true)
    expect(r.srm?.pValue).toBeLessThan(0.001)
    expect(r.notes.join(' ')).toMatch(/sample-ratio mismatch/)
  })

  it('__holdout__ compares the holdout with personalized visitors against holdoutPercent', async () => {
    await simulate(
      '__holdout__',
      10_000,
      [
        ['holdout', 10, 0.1],
        ['personalized', 90, 0.13],
      ],
      99,
      1,
    )
    const r = await results('__holdout__')
    expect(r.control).toBe('holdout')
    expect(r.placement).toBeNull()
    expect(r.arms.map((a) => [a.variant, a.expectedShare])).toEqual([
      ['holdout', 0.1],
      ['personalized', 0.9],
    ])
    expect(r.srm?.mismatch).toBe(false)
    expect(r.arms[1]?.goals.find((g) => g.goal === 'purchase')?.cs95?.[0]).toBeGreaterThan(0)
  })

  it('an experiment no longer in the ruleset still shows its stored results, without a sample-ratio check', async () => {
    await simulate(
      'old-test',
      200,
      [
        ['control', 50, 0.2],
        ['b', 50, 0.2],
      ],
      3,
      1,
    )
    const r = await results('old-test')
    expect(r.arms.map((a) => [a.variant, a.expectedShare])).toEqual([
      ['control', null],
      ['b', null],
    ])
    expect(r.srm).toBeNull()
    expect(r.notes.join(' ')).toMatch(/not in the active ruleset/)
  })
})

describe('results options', () => {
  it('?segment= reads one segment, ?correction=bh adjusts with Benjamini–Hochberg; bad values are 400', async () => {
    const row = (arm: string, goal: string, segment: string, visitors: number, conversions: number): StatsRow => ({
      ...statsRow('2026-06-01', 'hero-copy', arm, goal, segment),
      visitors,
      conversions,
    })
    await storeRows(env.DB, statsKind, [
      row('control', EXPOSURE_GOAL, '*', 4000, 0),
      row('bold', EXPOSURE_GOAL, '*', 4000, 0),
      row('control', 'purchase', '*', 0, 400),
      row('bold', 'purchase', '*', 0, 470),
      row('control', 'signup', '*', 0, 200),
      row('bold', 'signup', '*', 0, 230),
      row('control', EXPOSURE_GOAL, 'mobile', 1000, 0),
      row('bold', EXPOSURE_GOAL, 'mobile', 900, 0),
    ])
    const all = await results('hero-copy')
    expect(all.segment).toBe('*')
    expect(all.correction).toBe('holm')
    const mobileRes = await get('/__veneer/api/results/hero-copy?segment=mobile')
    const mobile = (await mobileRes.json()) as ExperimentResults
    expect(mobile.segment).toBe('mobile')
    expect(mobile.arms.map((a) => a.visitors)).toEqual([1000, 900])
    const bh = (await (await get('/__veneer/api/results/hero-copy?correction=bh')).json()) as ExperimentResults
    expect(bh.correction).toBe('bh')
    const p = all.arms[1]?.goals.map((g) => g.pValue ?? 1) ?? []
    const holmAdj = all.arms[1]?.goals.map((g) => g.pAdjusted) ?? []
    const bhAdj = bh.arms[1]?.goals.map((g) => g.pAdjusted) ?? []
    // Two comparisons: Holm multiplies the smaller p by 2; BH never adjusts more than Holm.
    expect(Math.min(...(holmAdj as number[]))).toBeCloseTo(Math.min(1, 2 * Math.min(...p)), 12)
    for (let i = 0; i < p.length; i++) expect(bhAdj[i] as number).toBeLessThanOrEqual((holmAdj[i] as number) + 1e-15)
    expect((await get('/__veneer/api/results/hero-copy?correction=bonferroni')).status).toBe(400)
    expect((await get('/__veneer/api/results/hero-copy?segment=%3Cx%3E')).status).toBe(400)
  })
})

describe('GET /__veneer/api/served', () => {
  it('reports how often each variant was served, per day and in total', async () => {
    const today = Date.now()
    const served = (at: number, variant: string, source: 'rule' | 'default', count = 1) =>
      ({ day: utcDay(at), placement: 'promo', variant, source, count }) as const
    await storeRows(env.DB, servedKind, [
      served(today, 'sale', 'rule', 3),
      served(today - DAY, 'sale', 'rule'),
      served(today, 'control', 'default'),
      served(today - 40 * DAY, 'sale', 'rule'), // outside the window
    ])
    const res = await get('/__veneer/api/served?days=7')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { days: unknown[]; totals: unknown[] }
    expect(body.days).toHaveLength(3)
    expect(body.totals).toEqual([
      { placement: 'promo', variant: 'sale', count: 4 },
      { placement: 'promo', variant: 'control', count: 1 },
    ])
  })

  it('validates days and needs the admin token', async () => {
    for (const q of ['0', 'abc', '9999', '-1']) expect((await get(`/__veneer/api/served?days=${q}`)).status).toBe(400)
    expect((await get('/__veneer/api/served', env, {})).status).toBe(401)
  })
})
