import { seededRng } from '../../src/util/random'
/**
 * The load simulation of issue 12: visitors' events pass through the real edge counting code
 * (src/measure/visit.ts, one measurement memory per visitor as the cookie keeps it), are summed
 * per isolate exactly as the aggregator does, sent as queue messages, and stored by the real
 * queue consumer into D1. Then the stored results are compared with an exact per-visitor
 * computation on the same data. The suite runs a small version (load.test.ts); the full one is
 * `node scripts/measure-load.mjs` (1,000,000 visitors, Miniflare's local D1).
 */
import { createMessageBatch } from 'cloudflare:test'
import type { Env } from '../../src/env'
import { type ArmTotals, analyze, emptyArm, emptyGoal } from '../../src/measure/analysis'
import { consumeAggregateBatch, messagesOf } from '../../src/measure/aggregate'
import type { ExposureMemo } from '../../src/measure/memory'
import { buildResults, readDaily } from '../../src/measure/results'
import { type StatsRow, statsKind } from '../../src/measure/stats-row'
import { covariateOf, conversionsOf, type VisitorMeasure } from '../../src/measure/visit'

const EXPERIMENT = 'load-test'
const ARMS = ['control', 'b', 'c'] as const
const GOALS = ['signup', 'purchase'] as const
const SEGMENTS = ['mobile', 'returning', 'eu'] as const
const DAY_MS = 86_400_000
const T0 = Date.parse('2026-06-01T08:00:00Z')

export interface LoadFigures {
  visitors: number
  events: number
  messages: number
  batches: number
  rowsStored: number
  ms: number
  identical: boolean
  mismatches: string[]
}

type Truth = Map<string, ArmTotals> // key: segment

/** One exposure's rows as the edge makes them (a page view of a visitor not yet counted). */
function exposeRows(v: VisitorMeasure, arm: string, segments: string[], at: number): StatsRow[] {
  const x = covariateOf(v)
  const memo: ExposureMemo = { experiment: EXPERIMENT, arm, x, segments, goals: [] }
  v.memos.push(memo)
  const day = new Date(at).toISOString().slice(0, 10)
  return ['*', ...segments].map((segment) => ({
    day,
    experiment: EXPERIMENT,
    arm,
    goal: '',
    segment,
    visitors: 1,
    conversions: 0,
    sumValue: 0,
    sumValue2: 0,
    sumX: x,
    sumX2: x * x,
    sumXY: 0,
    sumXV: 0,
  }))
}

/**
 * Simulates `visitors` visitors over 14 days on `isolates` isolates (each flushing every 1,000
 * events), consumes the messages in batches of 100 into `env.DB`, and compares.
 */
export async function runLoad(env: Env & { DB: D1Database }, visitors: number, seed = 7, isolates = 8): Promise<LoadFigures> {
  const started = Date.now()
  const rand = seededRng(seed)
  const truth: Truth = new Map()
  const truthArm = (segment: string, arm: string) => {
    let bySeg = truth.get(`${segment}|${arm}`)
    if (bySeg === undefined) {
      bySeg = emptyArm()
      truth.set(`${segment}|${arm}`, bySeg)
    }
    return bySeg
  }
  const buffers = Array.from({ length: isolates }, () => ({ rows: new Map<string, StatsRow>(), events: 0 }))
  const pending: ReturnType<typeof messagesOf> = []
  let messagesSent = 0
  let batches = 0
  let events = 0
  const flush = async (b: (typeof buffers)[number], force = false) => {
    if (b.events === 0 || (!force && b.events < 1_000)) return
    pending.push(...messagesOf(new Map([['stats', b.rows]])))
    b.rows = new Map()
    b.events = 0
    while (pending.length >= 100 || (force && pending.length > 0)) {
      const bodies = pending.splice(0, 100)
      messagesSent += bodies.length
      batches++
      const batch = createMessageBatch<unknown>(
        'veneer-events',
        bodies.map((body, i) => ({ id: `m${batches}-${i}`, timestamp: new Date(), attempts: 1, body })),
      )
      await consumeAggregateBatch(batch, env)
    }
  }
  const add = async (iso: number, rows: StatsRow[]) => {
    const b = buffers[iso] as (typeof buffers)[number]
    for (const r of rows) b.rows.set(statsKind.key(r), statsKind.merge(b.rows.get(statsKind.key(r)), r))
    b.events++
    events++
    await flush(b)
  }

  for (let i = 0; i < visitors; i++) {
    const arm = ARMS[Math.floor(rand() * ARMS.length)] as string
    const segments = SEGMENTS.filter(() => rand() < 0.3)
    const v: VisitorMeasure = { pageViews: Math.floor(rand() * 6), memos: [] }
    const day = Math.floor((i / visitors) * 14)
    let at = T0 + day * DAY_MS + Math.floor(rand() * 3_600_000)
    const iso = () => Math.floor(rand() * isolates)
    // First page view: the exposure (the edge counts it once; later views add nothing).
    await add(iso(), exposeRows(v, arm, segments, at))
    const x = covariateOf(v)
    for (const s of ['*', ...segments]) {
      const t = truthArm(s, arm)
      t.visitors++
      t.sumX += x
      t.sumX2 += x * x
    }
    const lift = arm === 'b' ? 0.01 : arm === 'c' ? -0.005 : 0
    const views = 1 + Math.floor(rand() * 4)
    const totals = new Map<string, number>()
    for (let p = 1; p < views; p++) {
      at += 60_000 + Math.floor(rand() * 20 * 3_600_000) // some continue on the next day
      v.pageViews++
      const goals: string[] = []
      if (rand() < 0.04 + lift + 0.01 * x) goals.push('signup')
      const rows = conversionsOf(v, goals, undefined, at)
      await add(iso(), rows)
      if (rand() < 0.03 + lift + 0.005 * x) {
        const value = Math.floor(rand() * 20_000) / 100 // cents: exact in binary sums below 2^53
        await add(iso(), conversionsOf(v, ['purchase'], value, at))
        totals.set('purchase', (totals.get('purchase') ?? 0) + value)
        if (!totals.has('purchase:first')) totals.set('purchase:first', 1)
      }
      for (const g of goals) if (!totals.has(`${g}:first`)) totals.set(`${g}:first`, 1)
    }
    for (const s of ['*', ...segments]) {
      const t = truthArm(s, arm)
      for (const g of GOALS) {
        if (!totals.has(`${g}:first`)) continue
        const gt = t.goals.get(g) ?? emptyGoal()
        t.goals.set(g, gt)
        const value = totals.get(g) ?? 0
        gt.conversions++
        gt.sumXY += x
        gt.sumValue += value
        gt.sumValue2 += value * value
        gt.sumXV += x * value
      }
    }
  }
  for (const b of buffers) await flush(b, true)

  // Compare every segment's stored totals with the truth, figure by figure, then the results.
  const mismatches: string[] = []
  for (const segment of ['*', ...SEGMENTS]) {
    const daily = await readDaily(env.DB, EXPERIMENT, segment)
    const stored = new Map<string, ArmTotals>()
    const { addRow } = await import('../../src/measure/results')
    for (const r of daily) addRow(stored, r)
    for (const arm of ARMS) {
      const want = truth.get(`${segment}|${arm}`) ?? emptyArm()
      const got = stored.get(arm) ?? emptyArm()
      const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b))
      if (got.visitors !== want.visitors || got.sumX !== want.sumX || got.sumX2 !== want.sumX2)
        mismatches.push(`${segment}/${arm}: exposure sums differ`)
      for (const g of GOALS) {
        const a = got.goals.get(g) ?? emptyGoal()
        const b = want.goals.get(g) ?? emptyGoal()
        if (a.conversions !== b.conversions || a.sumXY !== b.sumXY) mismatches.push(`${segment}/${arm}/${g}: conversions differ`)
        if (!close(a.sumValue, b.sumValue) || !close(a.sumValue2, b.sumValue2) || !close(a.sumXV, b.sumXV))
          mismatches.push(`${segment}/${arm}/${g}: value sums differ (${a.sumValue2} vs ${b.sumValue2})`)
      }
    }
    // The results a user reads: from D1 and from the per-visitor truth, figure for figure.
    const fromStore = buildResults(EXPERIMENT, undefined, daily, [...GOALS])
    const fromTruth = analyze({
      control: 'control',
      order: ['control', 'b', 'c'],
      totals: new Map(ARMS.map((a) => [a, truth.get(`${segment}|${a}`) ?? emptyArm()])),
      goals: [...GOALS],
    })
    const round = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'number' ? Number(x.toPrecision(9)) : x))
    if (round(fromStore?.arms) !== round(fromTruth.arms)) mismatches.push(`${segment}: results differ`)
    if (fromStore?.decision !== fromTruth.decision) mismatches.push(`${segment}: decision differs`)
  }
  const count = await env.DB.prepare('SELECT COUNT(*) AS n FROM stats_daily WHERE experiment = ?1')
    .bind(EXPERIMENT)
    .first<{ n: number }>()
  return {
    visitors,
    events,
    messages: messagesSent,
    batches,
    rowsStored: count?.n ?? 0,
    ms: Date.now() - started,
    identical: mismatches.length === 0,
    mismatches,
  }
}
