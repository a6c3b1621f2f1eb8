import { seededRng } from '../../src/util/random'
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { afterEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import type { Env } from '../../src/env'
import { consumeAggregateBatch, flushAggregates, pendingAggregates, setFlushPolicy } from '../../src/measure/aggregate'
import type { RulesetInput } from '../../src/rules/schema'
import { CF, origin, PAGE, rulesKv } from '../helpers'
import { env } from './helpers'

const DOC: RulesetInput = {
  version: 'agg-1',
  segments: [{ id: 'returning', when: { 'visitor.isNew': false } }],
  placements: [
    {
      id: 'hero',
      paths: ['/*'],
      selector: '#hero h1',
      variants: [{ id: 'bold', ops: [{ op: 'setText', value: 'Bold' }] }],
      rules: [{ experiment: { id: 'hero-copy', split: { control: 50, bold: 50 } } }],
    },
  ],
  goals: [
    { id: 'signup', path: '/thanks' },
    { id: 'purchase', event: 'purchase' },
  ],
}

/** Bindings that count every D1 statement and queue message while passing them on. */
function countingEnv(withQueue: boolean) {
  const counts = { statements: 0, batches: 0, messages: 0, sends: 0 }
  const bodies: unknown[] = []
  const db = env.DB
  const DB = {
    prepare(sql: string) {
      counts.statements++
      return db.prepare(sql)
    },
    async batch(s: D1PreparedStatement[]) {
      counts.batches++
      return db.batch(s)
    },
  } as unknown as D1Database
  const EVENTS = {
    async send(body: unknown) {
      counts.sends++
      counts.messages++
      bodies.push(structuredClone(body))
    },
    async sendBatch(ms: Iterable<MessageSendRequest<unknown>>) {
      counts.sends++
      for (const m of ms) {
        counts.messages++
        bodies.push(structuredClone(m.body))
      }
    },
  } as unknown as Queue<unknown>
  const e: Env = { ...(env as Env), ORIGIN_URL: 'https://origin.example', DB, EVENTS: withQueue ? EVENTS : undefined }
  return { env: e, counts, bodies }
}

async function clearStats(): Promise<void> {
  await env.DB.batch(['stats_daily', 'served', 'exposures', 'conversions'].map((t) => env.DB.prepare(`DELETE FROM ${t}`)))
}

interface Truth {
  visitors: Map<string, number>
  signups: Map<string, number>
  purchasers: Map<string, number>
  revenue: Map<string, number>
  revenue2: Map<string, number>
}

/**
 * `visitors` visitors browse through the real app (cookies carried between requests); some reach
 * /thanks and some purchase (with values). Returns the exact per-visitor truth for the arm each
 * was shown, computed from the responses alone.
 */
async function browse(
  e: Env,
  visitors: number,
  seed: number,
  pending: Promise<unknown>[],
): Promise<{ truth: Truth; views: number }> {
  const kv = await rulesKv(DOC)
  const app = createApp({ fetchOrigin: origin(PAGE).fetchOrigin })
  const ctx = {
    waitUntil: (p: Promise<unknown>) => pending.push(p),
    passThroughOnException() {},
    props: {},
  } as unknown as ExecutionContext
  const testEnv = { ...e, RULES: kv }
  const rand = seededRng(seed)
  const truth: Truth = { visitors: new Map(), signups: new Map(), purchasers: new Map(), revenue: new Map(), revenue2: new Map() }
  const inc = (m: Map<string, number>, k: string, by = 1) => m.set(k, (m.get(k) ?? 0) + by)
  let views = 0
  for (let v = 0; v < visitors; v++) {
    let cookie = ''
    let arm: string | undefined
    let signed = false
    let total = 0
    let purchased = false
    const pages = 1 + Math.floor(rand() * 4)
    for (let p = 0; p < pages; p++) {
      const path = rand() < 0.2 ? '/thanks' : '/'
      const res = await app.fetch(
        new Request(`https://shop.example${path}`, {
          headers: { cookie, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0' },
          cf: CF.berlin,
        } as RequestInit),
        testEnv,
        ctx,
      )
      const body = await res.text()
      views++
      const set = res.headers.getSetCookie().find((c) => c.startsWith('veneer_visitor='))
      if (set !== undefined) cookie = set.split(';')[0] ?? ''
      const shown = body.includes('<h1>Bold</h1>') ? 'bold' : 'control'
      if (arm === undefined) {
        arm = shown
        inc(truth.visitors, arm)
      }
      if (path === '/thanks' && !signed) {
        signed = true
        inc(truth.signups, arm)
      }
      if (rand() < 0.15) {
        const value = Math.round(rand() * 100)
        const r = await app.fetch(
          new Request('https://shop.example/__veneer/events', {
            method: 'POST',
            headers: { cookie, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
            body: JSON.stringify({ type: 'purchase', value }),
          }),
          testEnv,
          ctx,
        )
        const s2 = r.headers.getSetCookie().find((c) => c.startsWith('veneer_visitor='))
        if (s2 !== undefined) cookie = s2.split(';')[0] ?? ''
        if (!purchased) {
          purchased = true
          inc(truth.purchasers, arm)
        }
        const before = total
        total += value
        inc(truth.revenue, arm, value)
        inc(truth.revenue2, arm, total * total - before * before)
      }
    }
  }
  return { truth, views }
}

async function stored(): Promise<Record<string, Record<string, number>>> {
  const { results } = await env.DB.prepare(
    "SELECT arm, goal, SUM(visitors) AS visitors, SUM(conversions) AS conversions, SUM(sum_value) AS sv, SUM(sum_value2) AS sv2 FROM stats_daily WHERE experiment = 'hero-copy' AND segment = '*' GROUP BY arm, goal",
  ).all<{ arm: string; goal: string; visitors: number; conversions: number; sv: number; sv2: number }>()
  const out: Record<string, Record<string, number>> = {}
  for (const r of results) {
    const a = out[r.arm] ?? {}
    if (r.goal === '') a.visitors = r.visitors
    else {
      a[`${r.goal}.conversions`] = r.conversions
      a[`${r.goal}.sum`] = r.sv
      a[`${r.goal}.sum2`] = r.sv2
    }
    out[r.arm] = a
  }
  return out
}

function expected(t: Truth): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {}
  for (const arm of ['bold', 'control']) {
    out[arm] = {
      visitors: t.visitors.get(arm) ?? 0,
      'signup.conversions': t.signups.get(arm) ?? 0,
      'signup.sum': 0,
      'signup.sum2': 0,
      'purchase.conversions': t.purchasers.get(arm) ?? 0,
      'purchase.sum': t.revenue.get(arm) ?? 0,
      'purchase.sum2': t.revenue2.get(arm) ?? 0,
    }
  }
  return out
}

afterEach(() => setFlushPolicy({ maxAgeMs: 0 })) // the suite's policy (test/setup/d1.ts)

describe('edge aggregation', () => {
  it('a page view costs no D1 statement and no queue message of its own (EVENTS bound)', async () => {
    await clearStats()
    setFlushPolicy({ maxAgeMs: 3_600_000, maxEvents: 1_000 }) // only the size threshold flushes here
    const c = countingEnv(true)
    const pending: Promise<unknown>[] = []
    const { truth, views } = await browse(c.env, 600, 7, pending)
    await new Promise((r) => setTimeout(r, 100)) // let the size-triggered flushes finish
    const flushesBySize = c.counts.sends
    await flushAggregates(c.env)
    expect(views).toBeGreaterThan(1_200)
    // Requests: ~1,500 page views and ~200 events. Flushes: one per 1,000 events, plus the last.
    expect(c.counts.statements).toBe(0)
    expect(flushesBySize).toBeGreaterThanOrEqual(1)
    expect(c.counts.sends).toBeLessThanOrEqual(3)
    // One message per kind and flush: stats, served and the segment sample (src/segments/sample.ts).
    expect(c.counts.messages).toBeLessThanOrEqual(9)
    // The consumer stores exactly the per-visitor truth.
    const batch = createMessageBatch<unknown>(
      'veneer-events',
      c.bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
    )
    const qctx = createExecutionContext()
    await consumeAggregateBatch(batch, env as Env)
    const q = await getQueueResult(batch, qctx)
    expect(q.explicitAcks.length + (q.ackAll ? c.bodies.length : 0)).toBeGreaterThan(0)
    expect(await stored()).toEqual(expected(truth))
  }, 60_000)

  it('without EVENTS: one D1 batch per flush, one UPSERT per touched row, same totals', async () => {
    await clearStats()
    setFlushPolicy({ maxAgeMs: 3_600_000, maxEvents: 1_000 })
    const c = countingEnv(false)
    const pending: Promise<unknown>[] = []
    const { truth } = await browse(c.env, 300, 11, pending)
    await new Promise((r) => setTimeout(r, 100))
    await flushAggregates(c.env)
    expect(c.counts.batches).toBeLessThanOrEqual(2)
    // Rows: 2 arms × (exposure + 2 goals) × 2 segments ('*', returning) × days ≤ 24 statements.
    expect(c.counts.statements).toBeLessThanOrEqual(24)
    expect(pendingAggregates().events).toBe(0)
    expect(await stored()).toEqual(expected(truth))
  }, 60_000)

  it('flushes by itself within the time limit', async () => {
    await clearStats()
    setFlushPolicy({ maxAgeMs: 30, maxEvents: 1_000 })
    const c = countingEnv(false)
    const pending: Promise<unknown>[] = []
    await browse(c.env, 3, 3, pending)
    await Promise.all(pending)
    expect(pendingAggregates().events).toBe(0)
    expect(c.counts.batches).toBeGreaterThanOrEqual(1)
    const n = await env.DB.prepare("SELECT SUM(visitors) AS n FROM stats_daily WHERE goal = '' AND segment = '*'").first<{
      n: number
    }>()
    expect(n?.n).toBe(3)
  })

  it('the consumer drops malformed rows and unknown kinds, stores the rest, and retries on a D1 failure', async () => {
    await clearStats()
    const good = {
      v: 2,
      kind: 'stats',
      rows: [
        { day: '2026-06-01', experiment: 'e', arm: 'control', goal: '', segment: '*', visitors: 2, sumX: 3, sumX2: 5 },
        { day: '2026-06-01', experiment: 'e', arm: 'control', goal: '', segment: '*', visitors: 1, sumX: 1, sumX2: 1 },
        { day: 'yesterday', experiment: 'e', arm: 'control', goal: '', segment: '*', visitors: 1 },
        { day: '2026-06-01', experiment: 'e', arm: 'control', goal: '', segment: '*', visitors: 'NaN' },
      ],
    }
    const bodies = [good, { v: 2, kind: 'nope', rows: [{}] }, { v: 1, events: [] }, 'junk']
    const batch = createMessageBatch<unknown>(
      'veneer-events',
      bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
    )
    const qctx = createExecutionContext()
    await consumeAggregateBatch(batch, env as Env)
    expect((await getQueueResult(batch, qctx)).ackAll).toBe(true)
    const row = await env.DB.prepare('SELECT visitors, sum_x, sum_x2 FROM stats_daily').all()
    expect(row.results).toEqual([{ visitors: 3, sum_x: 4, sum_x2: 6 }])

    const failing = {
      ...(env as Env),
      DB: { prepare: env.DB.prepare.bind(env.DB), batch: () => Promise.reject(new Error('D1 down')) } as unknown as D1Database,
    }
    const batch2 = createMessageBatch<unknown>('veneer-events', [{ id: 'x', timestamp: new Date(), attempts: 1, body: good }])
    await consumeAggregateBatch(batch2, failing)
    expect((await getQueueResult(batch2, qctx)).retryBatch.retry).toBe(true)
  })

  it('through the real EVENTS queue in miniflare: the Worker consumer stores the flushed sums', async () => {
    await clearStats()
    setFlushPolicy({ maxAgeMs: 3_600_000, maxEvents: 1_000 })
    const { aggregateMany } = await import('../../src/measure/aggregate')
    const { statsKind, statsRow } = await import('../../src/measure/stats-row')
    const pending: Promise<unknown>[] = []
    for (let i = 0; i < 50; i++)
      aggregateMany(env as Env, (p) => pending.push(p), statsKind, [
        { ...statsRow('2026-06-01', 'queued', i % 2 === 0 ? 'control' : 'b', '', '*'), visitors: 1, sumX: i, sumX2: i * i },
      ])
    await flushAggregates(env as Env) // env.EVENTS is the queue of wrangler.toml; its consumer is src/worker.ts
    const deadline = Date.now() + 15_000 // max_batch_timeout is 5 s
    let got: Record<string, unknown>[] = []
    while (Date.now() < deadline && got.length < 2) {
      await new Promise((r) => setTimeout(r, 250))
      got = (await env.DB.prepare("SELECT arm, visitors, sum_x FROM stats_daily WHERE experiment = 'queued' ORDER BY arm").all())
        .results
    }
    expect(got).toEqual([
      { arm: 'b', visitors: 25, sum_x: 625 },
      { arm: 'control', visitors: 25, sum_x: 600 },
    ])
  }, 30_000)
})
