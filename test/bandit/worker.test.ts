import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { getBanditWeights, type BanditWeightsLookup } from '../../src/bandit/store'
import { runBanditUpdates } from '../../src/bandit/update'
import { purgeExpired } from '../../src/measure/retention'
import { cohortSource, rawRowsSource } from '../../src/bandit/counts'
import { banditConfigs } from '../../src/bandit/config'
import { seededRng } from '../../src/util/random'
import { compileRuleset } from '../../src/rules/compile'
import { experimentHooks } from '../../src/experiments/hooks'
import { decide } from '../../src/decide/decide'
import { forgetRuleset } from '../../src/rules/store'
import worker from '../../src/worker'
import { context, state, visitorIds } from '../experiments/helpers'
import { CF, origin, recordKvGets, rulesKv, run } from '../helpers'
import { BANDIT_ID, banditRuleset, clearBandit, env, putWeights, seedRows } from './helpers'

const HOUR = 3_600_000
const PAGE = '<html><body><section id="hero"><h1>Everyday gear.</h1></section></body></html>'

function cookieOf(res: Response): string {
  const c = res.headers.getSetCookie().find((s) => s.startsWith('veneer_visitor='))
  if (c === undefined) throw new Error('no veneer_visitor cookie')
  return c.split(';')[0] as string
}

async function page(kv: KVNamespace, cookie?: string) {
  const headers: Record<string, string> = cookie === undefined ? {} : { cookie }
  const init = { cf: CF.newYork, headers }
  const r = await run('https://shop.example/', { kv, init, app: { fetchOrigin: origin(PAGE).fetchOrigin } })
  return { headline: /<h1>([^<]*)<\/h1>/.exec(r.text)?.[1], res: r.res }
}

beforeEach(async () => {
  forgetRuleset(env.RULES)
  await clearBandit(env.DB, env.RULES)
  vi.spyOn(console, 'log').mockImplementation(() => undefined)
})

describe('bucketing new visitors with the weights in KV', () => {
  it('new visitors get the arms of the weights in force; assigned visitors keep their arm when weights change', async () => {
    await putWeights(env.RULES, 1, [{ from: 0, weights: { bold: 100, control: 0 } }])
    const kv = await rulesKv(banditRuleset())
    const first = await page(kv)
    expect(first.headline).toBe('Bold')
    const returning = cookieOf(first.res)
    for (let i = 0; i < 5; i++) expect((await page(kv)).headline).toBe('Bold')

    // The bandit turns around: a fresh isolate reads the new weights.
    await putWeights(env.RULES, 2, [
      { from: 0, weights: { bold: 100, control: 0 } },
      { from: Date.now() - 1000, weights: { bold: 0, control: 100 } },
    ])
    const kv2 = await rulesKv(banditRuleset())
    for (let i = 0; i < 5; i++) expect((await page(kv2)).headline).toBe('Everyday gear.')
    expect((await page(kv2, returning)).headline).toBe('Bold') // sticky
  })

  it('a page with no placement on its path reads no weights from KV', async () => {
    await putWeights(env.RULES, 1, [{ from: 0, weights: { bold: 100, control: 0 } }])
    const doc = banditRuleset()
    const elsewhere = { ...doc, placements: (doc.placements ?? []).map((p) => ({ ...p, paths: ['/landing/*'] })) }
    const kv = await rulesKv(elsewhere)
    const names = recordKvGets(kv)
    const r = await page(kv)
    expect(r.res.headers.get('x-veneer')).toBe('generic')
    expect(names).toEqual(['ruleset'])
    const onPath = await rulesKv(banditRuleset())
    const seen = recordKvGets(onPath)
    await page(onPath)
    expect(seen.filter((n) => n !== 'ruleset').length).toBeGreaterThan(0)
  })

  it('weights that come into force later are not used before their time', async () => {
    await putWeights(env.RULES, 3, [
      { from: 0, weights: { bold: 100, control: 0 } },
      { from: Date.now() + HOUR, weights: { bold: 0, control: 100 } },
    ])
    const kv = await rulesKv(banditRuleset())
    for (let i = 0; i < 3; i++) expect((await page(kv)).headline).toBe('Bold')
  })

  it('splits 2,000 new visitors by 80/20 weights within ±2.5 points', () => {
    const r = compileRuleset(banditRuleset())
    if (!r.ok) throw new Error('invalid')
    const lookup: BanditWeightsLookup = () => ({ weights: { bold: 80, control: 20 }, from: 0 })
    let bold = 0
    const ids = visitorIds(2000, 77)
    const at = new Date()
    for (const id of ids) {
      const s = state(id)
      const ctx = context(s)
      const d = decide(r.ruleset, ctx, '/', experimentHooks(r.ruleset, ctx, s, at, lookup))
      if (d.placements[0]?.variant === 'bold') bold++
    }
    expect(Math.abs(bold / ids.length - 0.8)).toBeLessThan(0.025)
  })

  it('before the first update the configured split is used; unknown weights skip the bandit rule', () => {
    const r = compileRuleset(banditRuleset({ split: { control: 0, bold: 1 } }))
    expect(r.ok).toBe(false) // a bandit needs two arms of positive weight…
    const ok = compileRuleset(banditRuleset({ split: { control: 1, bold: 3 } }))
    if (!ok.ok) throw new Error('invalid')
    const s = state('v-1')
    const ctx = context(s)
    const none = decide(
      ok.ruleset,
      ctx,
      '/',
      experimentHooks(ok.ruleset, ctx, s, new Date(), () => undefined),
    )
    expect(none.placements[0]?.reason.kind).toBe('experiment')
    const unknown = decide(
      ok.ruleset,
      ctx,
      '/',
      experimentHooks(ok.ruleset, ctx, s, new Date(), () => 'unknown'),
    )
    expect(unknown.placements[0]).toMatchObject({ variant: 'control', reason: { kind: 'default' } })
    // A sticky visitor keeps the arm even while the weights are unknown.
    const sticky = state('v-1', { [BANDIT_ID]: 'bold' })
    const kept = decide(
      ok.ruleset,
      context(sticky),
      '/',
      experimentHooks(ok.ruleset, context(sticky), sticky, new Date(), () => 'unknown'),
    )
    expect(kept.placements[0]?.variant).toBe('bold')
  })
})

describe('the weights store', () => {
  it('reads once per isolate, answers warm requests from memory, and waits at most the budget when cold', async () => {
    await putWeights(env.RULES, 1, [{ from: 0, weights: { bold: 70, control: 30 } }])
    let reads = 0
    let delayMs = 200
    const slow = {
      async get(key: string, type: 'text') {
        reads++
        await new Promise((r) => setTimeout(r, delayMs))
        return env.RULES.get(key, type)
      },
    } as unknown as KVNamespace
    const pending: Promise<unknown>[] = []
    const opts = { budgetMs: 20, maxAgeMs: 10_000, waitUntil: (p: Promise<unknown>) => void pending.push(p) }
    const cold = await getBanditWeights(slow, [BANDIT_ID], opts)
    expect(cold(BANDIT_ID, Date.now())).toBe('unknown')
    await Promise.all(pending)
    delayMs = 0
    const warm = await getBanditWeights(slow, [BANDIT_ID], opts)
    expect(warm(BANDIT_ID, Date.now())).toEqual({ weights: { bold: 70, control: 30 }, from: 0 })
    await getBanditWeights(slow, [BANDIT_ID], opts)
    expect(reads).toBe(1)
    // Stale: refreshed in the background, the old weights answer meanwhile.
    await putWeights(env.RULES, 2, [{ from: 0, weights: { bold: 10, control: 90 } }])
    const stale = await getBanditWeights(slow, [BANDIT_ID], { ...opts, now: Date.now() + 20_000 })
    expect(stale(BANDIT_ID, Date.now())).toEqual({ weights: { bold: 70, control: 30 }, from: 0 })
    await Promise.all(pending)
    const fresh = await getBanditWeights(slow, [BANDIT_ID], opts)
    expect(fresh(BANDIT_ID, Date.now())).toEqual({ weights: { bold: 10, control: 90 }, from: 0 })
    expect(reads).toBe(2)
  })

  it('keeps the last good weights when the stored document is invalid; absent means the configured split', async () => {
    const kv = env.RULES
    const opts = { budgetMs: 1000, maxAgeMs: 0, waitUntil: () => undefined }
    const wrapper = { get: (k: string, t: 'text') => kv.get(k, t) } as unknown as KVNamespace
    expect((await getBanditWeights(wrapper, [BANDIT_ID], opts))(BANDIT_ID, 1)).toBeUndefined()
    await putWeights(kv, 1, [{ from: 0, weights: { bold: 60, control: 40 } }])
    const w2 = { get: (k: string, t: 'text') => kv.get(k, t) } as unknown as KVNamespace
    const pending: Promise<unknown>[] = []
    const o2 = { ...opts, waitUntil: (p: Promise<unknown>) => void pending.push(p) }
    expect((await getBanditWeights(w2, [BANDIT_ID], o2))(BANDIT_ID, 1)).toEqual({ weights: { bold: 60, control: 40 }, from: 0 })
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    await kv.put(`bandit:${BANDIT_ID}`, '{"version": "x"}')
    await getBanditWeights(w2, [BANDIT_ID], o2)
    await Promise.all(pending)
    expect((await getBanditWeights(w2, [BANDIT_ID], o2))(BANDIT_ID, 1)).toEqual({ weights: { bold: 60, control: 40 }, from: 0 })
  })
})

describe('scheduled update', () => {
  // 09:56 UTC: the 10:00 boundary is due (it is 4 minutes away, more than the 2-minute lead).
  const T0 = Date.parse('2026-11-30T09:56:00Z')
  const B10 = Date.parse('2026-11-30T10:00:00Z')

  async function tick(at: number, cron = '*/5 * * * *') {
    const controller = createScheduledController({ scheduledTime: at, cron })
    const ctx = createExecutionContext()
    await worker.scheduled(controller, env, ctx)
    await waitOnExecutionContext(ctx)
  }
  const doc = async () => JSON.parse((await env.RULES.get(`bandit:${BANDIT_ID}`)) ?? 'null')
  const history = async () =>
    (await env.DB.prepare('SELECT period_from, weights, phase, version FROM bandit_periods ORDER BY period_from').all()).results

  it('burn-in: the configured split until every arm has burnIn visitors, written to KV and D1', async () => {
    await env.RULES.put('ruleset', JSON.stringify(banditRuleset({ split: { control: 1, bold: 3 } })))
    await seedRows(env.DB, 'bold', T0 - 2 * HOUR, 50, 25)
    await seedRows(env.DB, 'control', T0 - 2 * HOUR, 12, 0)
    await seedRows(env.DB, 'control', T0 - 3 * HOUR, 7, 0) // 19 in all: one short of burnIn 20
    await tick(T0)
    expect(await doc()).toMatchObject({
      version: 1,
      experiment: BANDIT_ID,
      periods: [{ from: B10, weights: { bold: 75, control: 25 }, phase: 'burn-in' }],
    })
    expect(await history()).toEqual([{ period_from: B10, weights: '{"bold":75,"control":25}', phase: 'burn-in', version: 1 }])
  })

  it('adaptive: Thompson weights with the floor, once per period, then the next boundary', async () => {
    await env.RULES.put('ruleset', JSON.stringify(banditRuleset()))
    await seedRows(env.DB, 'bold', T0 - 3 * HOUR, 300, 90) // 30%
    await seedRows(env.DB, 'control', T0 - 3 * HOUR, 300, 15) // 5%
    const oldRow = T0 - 200 * 24 * HOUR // older than retention: only the daily cron may purge it
    await env.DB.prepare(
      'INSERT INTO exposures (visitor, experiment, variant, placement, exposed_at) VALUES (?1, ?2, ?3, ?4, ?5)',
    )
      .bind('old', BANDIT_ID, 'control', 'hero', oldRow)
      .run()
    await tick(T0)
    const first = await doc()
    expect(first.version).toBe(1)
    const w = first.periods[0].weights
    expect(first.periods[0]).toMatchObject({ from: B10, phase: 'adaptive' })
    expect(w.control).toBeGreaterThanOrEqual(5) // the floor
    expect(w.control).toBeLessThan(5.01) // P(control best) is ~0 here
    expect(w.bold + w.control).toBeCloseTo(100, 9)

    await tick(T0 + 2 * 60_000) // same period: nothing new
    await tick(B10 + 30 * 60_000) // 10:30: the 11:00 boundary is not due yet
    expect((await doc()).version).toBe(1)
    await tick(B10 + 56 * 60_000) // 10:56: prepares 11:00
    const second = await doc()
    expect(second.version).toBe(2)
    expect(second.periods.map((p: { from: number }) => p.from)).toEqual([B10, B10 + HOUR])
    expect((await history()).length).toBe(2)
    const old = await env.DB.prepare('SELECT COUNT(*) AS n FROM exposures WHERE exposed_at = ?1').bind(oldRow).first('n')
    expect(old).toBe(1)
  })

  it('does nothing for an experiment outside start/end, and one bandit failing does not stop the others', async () => {
    await env.RULES.put('ruleset', JSON.stringify(banditRuleset({ end: '2026-01-01' })))
    const out = await runBanditUpdates(env, T0, () => undefined)
    expect(out).toEqual([{ experiment: BANDIT_ID, action: 'skipped', why: 'experiment ended' }])
    forgetRuleset(env.RULES)
    await env.RULES.put(
      'ruleset',
      JSON.stringify(banditRuleset({ stopped: { at: '2026-11-01T00:00:00Z', reason: 'guardrail' } })),
    )
    expect(await runBanditUpdates(env, T0, () => undefined)).toEqual([
      { experiment: BANDIT_ID, action: 'skipped', why: 'experiment stopped' },
    ])
    forgetRuleset(env.RULES)
    await env.RULES.put('ruleset', JSON.stringify(banditRuleset()))
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const failing = await runBanditUpdates(env, T0, () => undefined, {
      source: () => Promise.reject(new Error('D1 down')),
      rng: seededRng(1),
    })
    expect(failing).toEqual([{ experiment: BANDIT_ID, action: 'skipped', why: 'update failed' }])
    expect(await doc()).toBeNull() // no weights without their history
  })
})

describe('ruleset validation of bandit fields', () => {
  const issues = (experiment: Record<string, unknown>, over = {}) => {
    const r = compileRuleset(banditRuleset(experiment, over))
    return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`)
  }
  it('accepts the defaults and refuses impossible settings with their path', () => {
    expect(issues({})).toEqual([])
    expect(issues({ burnIn: undefined, floor: undefined, every: undefined })).toEqual([])
    expect(issues({ floor: 60 }).join()).toMatch(/floor/)
    expect(issues({ floor: 40, split: { control: 1, bold: 1, x: 1 } }).join()).toMatch(/more than 100%/)
    expect(issues({ every: 2 }).join()).toMatch(/every/)
    expect(issues({ burnIn: -1 }).join()).toMatch(/burnIn/)
    expect(issues({ allocation: undefined }).join()).toMatch(/"burnIn" applies only with "allocation": "bandit"/)
    expect(issues({ goal: 'nope' }).join()).toMatch(/placements\.0\.rules\.0\.experiment\.goal: unknown goal "nope"/)
    expect(issues({}, { goals: [] }).join()).toMatch(/needs a goal/)
    expect(issues({ allocation: 'greedy' }).join()).toMatch(/allocation/)
  })
})

describe('GET /__veneer/api/bandit/:experimentId', () => {
  const B = Date.parse('2026-01-05T10:00:00Z') // in the past: its weights are in force now
  const auth = { authorization: 'Bearer test-admin-token' }

  it('weights each period, and checks the sample ratio against the weights in force per period', async () => {
    await env.DB.prepare(
      'INSERT INTO bandit_periods (experiment, period_from, weights, phase, version, created_at) VALUES (?1, ?2, ?3, ?4, 1, 0)',
    )
      .bind(BANDIT_ID, B, '{"bold":90,"control":10}', 'adaptive')
      .run()
    // Before the first update: the configured split (50/50); then 90/10.
    await seedRows(env.DB, 'bold', B - 2 * HOUR, 200, 20)
    await seedRows(env.DB, 'control', B - 2 * HOUR, 200, 10)
    await seedRows(env.DB, 'bold', B + HOUR, 900, 180)
    await seedRows(env.DB, 'control', B + HOUR, 100, 5)
    const kv = await rulesKv(banditRuleset())
    const r = await run(`https://shop.example/__veneer/api/bandit/${BANDIT_ID}`, { kv, init: { headers: auth } })
    expect(r.res.status).toBe(200)
    const body = JSON.parse(r.text)
    const arm = (id: string) => body.arms.find((a: { arm: string }) => a.arm === id)
    // Period weights 400/1400 and 1000/1400: bold (400·0.10 + 1000·0.20)/1400, control 0.05.
    expect(arm('bold').rate).toBeCloseTo(240 / 1400, 12)
    expect(arm('control').rate).toBeCloseTo(0.05, 12)
    expect(arm('bold').pooledRate).toBeCloseTo(200 / 1100, 12) // what a naive read would say
    expect(arm('bold').lift).toBeCloseTo(240 / 1400 - 0.05, 12)
    expect(arm('bold').pValue).toBeLessThan(0.001)
    expect(arm('bold').probabilityBest).toBeGreaterThan(0.99)
    expect(body.srm).toMatchObject({ chiSquare: 0, degreesOfFreedom: 2, mismatch: false, periodsTested: 2 })
    expect(body.periods).toEqual([
      { from: null, weights: { control: 1, bold: 1 }, visitors: 400 },
      { from: B, weights: { bold: 90, control: 10 }, visitors: 1000 },
    ])
    expect(body.weightsInForce).toEqual({ from: B, weights: { bold: 90, control: 10 } })
  })

  it('flags a sample-ratio mismatch when visitors did not follow the weights in force', async () => {
    await env.DB.prepare(
      'INSERT INTO bandit_periods (experiment, period_from, weights, phase, version, created_at) VALUES (?1, ?2, ?3, ?4, 1, 0)',
    )
      .bind(BANDIT_ID, B, '{"bold":90,"control":10}', 'adaptive')
      .run()
    await seedRows(env.DB, 'bold', B + HOUR, 500, 50) // 50/50 although 90/10 was in force
    await seedRows(env.DB, 'control', B + HOUR, 500, 50)
    const kv = await rulesKv(banditRuleset())
    const body = JSON.parse(
      (await run(`https://shop.example/__veneer/api/bandit/${BANDIT_ID}`, { kv, init: { headers: auth } })).text,
    )
    expect(body.srm.mismatch).toBe(true)
    expect(body.notes.join(' ')).toMatch(/sample-ratio mismatch/)
  })

  it('GET api/results of a bandit carries the bandit figures and checks the sample ratio per period', async () => {
    await env.DB.prepare(
      'INSERT INTO bandit_periods (experiment, period_from, weights, phase, version, created_at) VALUES (?1, ?2, ?3, ?4, 1, 0)',
    )
      .bind(BANDIT_ID, B, '{"bold":90,"control":10}', 'adaptive')
      .run()
    await seedRows(env.DB, 'bold', B - 2 * HOUR, 200, 20)
    await seedRows(env.DB, 'control', B - 2 * HOUR, 200, 10)
    await seedRows(env.DB, 'bold', B + HOUR, 900, 180)
    await seedRows(env.DB, 'control', B + HOUR, 100, 5)
    const kv = await rulesKv(banditRuleset())
    const r = await run(`https://shop.example/__veneer/api/results/${BANDIT_ID}`, { kv, init: { headers: auth } })
    expect(r.res.status).toBe(200)
    const body = JSON.parse(r.text)
    // Pooled 1100/300 would be a glaring mismatch against the configured 50/50; per period it fits.
    expect(body.srm).toMatchObject({ chiSquare: 0, degreesOfFreedom: 2, mismatch: false })
    expect(body.srm.note).toMatch(/weights in force/)
    expect(body.bandit.arms.find((a: { arm: string }) => a.arm === 'bold').rate).toBeCloseTo(240 / 1400, 12)
    expect(body.notes[0]).toMatch(/adaptive allocation/)
  })

  it('needs the admin token, a valid id and a bandit experiment', async () => {
    const kv = await rulesKv(banditRuleset())
    expect((await run(`https://shop.example/__veneer/api/bandit/${BANDIT_ID}`, { kv })).res.status).toBe(401)
    expect((await run('https://shop.example/__veneer/api/bandit/%20x', { kv, init: { headers: auth } })).res.status).toBe(400)
    const other = await run('https://shop.example/__veneer/api/bandit/other', { kv, init: { headers: auth } })
    expect(other.res.status).toBe(404)
    expect(JSON.parse(other.text).error).toBe('unknown_bandit')
  })
})

describe('recording bandit counts by exposure cohort', () => {
  it('page views and purchases through the Worker land in bandit_counts, equal to a recount of the audit rows', async () => {
    const doc = banditRuleset({}, { settings: { measurement: { rawEvents: true } } })
    await env.RULES.put('ruleset', JSON.stringify(doc))
    await putWeights(env.RULES, 1, [{ from: 0, weights: { bold: 90, control: 10 } }])
    const testEnv = { ...env, EVENTS: undefined }
    const call = async (req: Request) => {
      const ctx = createExecutionContext()
      const res = await worker.fetch(req, testEnv, ctx)
      const text = await res.text()
      await waitOnExecutionContext(ctx)
      return { res, text }
    }
    const truth = { bold: [0, 0], control: [0, 0] } as Record<string, [number, number]>
    for (let i = 0; i < 40; i++) {
      // The bundled demo shop is the origin: its hero headline is replaced for the `bold` arm.
      const { res, text } = await call(new Request('https://shop.example/', { cf: CF.berlin } as RequestInit))
      const cookie = cookieOf(res)
      const arm = /<h1>Bold<\/h1>/.test(text) ? 'bold' : 'control'
      const counts = truth[arm] as [number, number]
      counts[0]++
      if (i % 3 === 0) {
        counts[1]++
        await call(
          new Request('https://shop.example/__veneer/events', {
            method: 'POST',
            headers: { cookie, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
            body: JSON.stringify({ type: 'purchase' }),
          }),
        )
      }
    }
    const r = compileRuleset(doc)
    if (!r.ok) throw new Error('invalid')
    const config = banditConfigs(r.ruleset)[0]
    if (config === undefined) throw new Error('no bandit')
    const flat = (b: Map<number, Map<string, { visitors: number; conversions: number }>>) => {
      const out: Record<string, [number, number]> = {}
      for (const arms of b.values())
        for (const [arm, c] of arms) {
          const o = (out[arm] ??= [0, 0])
          o[0] += c.visitors
          o[1] += c.conversions
        }
      return out
    }
    const cohort = await cohortSource(env.DB)(config)
    expect(flat(cohort)).toEqual(truth)
    expect(cohort).toEqual(await rawRowsSource(env.DB)(config))
    expect((truth.bold?.[0] ?? 0) + (truth.control?.[0] ?? 0)).toBe(40)
    // 90/10 weights: fewer than 28 of 40 on bold has probability below 1e-4 (binomial).
    expect(truth.bold?.[0]).toBeGreaterThanOrEqual(28)
  })
})

describe('retention', () => {
  it('keeps bandit counts (totals, no visitor data) past retentionDays: a bandit’s estimates need every period', async () => {
    const old = Date.UTC(2025, 0, 1)
    await seedRows(env.DB, 'control', old, 40, 4)
    const purged = await purgeExpired(env.DB, 30, Date.UTC(2026, 10, 30))
    expect(purged.cutoff).toBeGreaterThan(old)
    const rows = await env.DB.prepare('SELECT SUM(visitors) AS v, SUM(conversions) AS c FROM bandit_counts WHERE bucket = ?1')
      .bind(Math.floor(old / HOUR) * HOUR)
      .first<{ v: number; c: number }>()
    expect(rows).toEqual({ v: 40, c: 4 })
  })
})
