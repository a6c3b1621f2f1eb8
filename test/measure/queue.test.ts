import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Env } from '../../src/env'
import { measurePageView, measureVisitorEvent } from '../../src/measure/record'
import type { MeasureEvent } from '../../src/measure/types'
import worker from '../../src/worker'
import { clearTables, compiled, decision, directEnv, env, rows, visitorContext, type Row } from './helpers'

const rs = compiled()
const T0 = Date.parse('2026-06-01T12:00:00Z')

type Step =
  | { view: string; path?: string; arm?: string; holdout?: boolean; at: number }
  | { event: string; type: string; value?: number; at: number }

// Visitors see pages and convert; includes repeats (dedupe), an unexposed converter, a holdout.
const SCENARIO: Step[] = [
  { view: 'v1', arm: 'bold', at: T0 },
  { view: 'v2', arm: 'control', at: T0 + 1 },
  { view: 'v3', holdout: true, at: T0 + 2 },
  { event: 'v0', type: 'purchase', at: T0 + 3 }, // never exposed
  { view: 'v1', arm: 'control', at: T0 + 10 }, // first variant wins
  { event: 'v1', type: 'purchase', value: 20, at: T0 + 20 },
  { event: 'v1', type: 'purchase', value: 30, at: T0 + 21 }, // one conversion per goal
  { view: 'v2', path: '/thanks', arm: 'control', at: T0 + 30 },
  { event: 'v3', type: 'purchase', at: T0 + 40 },
  { view: 'v4', path: '/products/9', at: T0 + 50 },
]

async function play(e: Env, steps: Step[]): Promise<void> {
  for (const s of steps) {
    if ('view' in s) {
      const ctx = visitorContext({ id: s.view, path: s.path ?? '/' })
      await measurePageView(e, rs, ctx, decision(rs, ctx, s.arm, { holdout: s.holdout ?? false }), s.at)
    } else {
      await measureVisitorEvent(e, rs, s.event, { type: s.type, value: s.value }, s.at)
    }
  }
}

async function snapshot(): Promise<{ exposures: Row[]; conversions: Row[]; served: Row[] }> {
  return {
    exposures: await rows(env.DB, 'exposures'),
    conversions: await rows(env.DB, 'conversions'),
    served: await rows(env.DB, 'served'),
  }
}

/** A producer that keeps what it is sent, to hand to the consumer as a MessageBatch. */
function capturingQueue(): { queue: Queue<unknown>; bodies: unknown[] } {
  const bodies: unknown[] = []
  const queue = {
    async send(body: unknown) {
      bodies.push(structuredClone(body))
    },
    async sendBatch(messages: Iterable<MessageSendRequest<unknown>>) {
      for (const m of messages) bodies.push(structuredClone(m.body))
    },
  } as unknown as Queue<unknown>
  return { queue, bodies }
}

function batchOf(bodies: unknown[]) {
  return createMessageBatch<unknown>(
    'veneer-events',
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(T0), attempts: 1, body })),
  )
}

beforeEach(async () => {
  await clearTables(env.DB)
})
afterEach(() => vi.restoreAllMocks())

describe('the EVENTS queue path', () => {
  it('stores exactly what the direct path stores, even when the batch arrives out of order', async () => {
    await play(directEnv, SCENARIO)
    const direct = await snapshot()
    expect(direct.exposures.length).toBeGreaterThan(0)
    expect(direct.conversions.length).toBeGreaterThan(0)
    await clearTables(env.DB)

    const { queue, bodies } = capturingQueue()
    await play({ ...env, EVENTS: queue }, SCENARIO)
    expect(await snapshot()).toEqual({ exposures: [], conversions: [], served: [] }) // nothing written on the request path
    expect(JSON.stringify(bodies)).not.toMatch(/"v[0-4]"/) // raw ids never enter the queue
    expect(bodies).toHaveLength(SCENARIO.length) // one message per page view or converting event

    // Deliver in two batches, the first one reversed: the consumer sorts by time.
    const half = Math.ceil(bodies.length / 2)
    for (const part of [bodies.slice(0, half).reverse(), bodies.slice(half)]) {
      const batch = batchOf(part)
      const ctx = createExecutionContext()
      await worker.queue(batch, env, ctx)
      const result = await getQueueResult(batch, ctx)
      expect(result.ackAll).toBe(true)
      expect(result.retryBatch.retry).toBe(false)
    }
    expect(await snapshot()).toEqual(direct)
  })

  it('drops malformed messages (acked, logged) and stores the rest', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const good: MeasureEvent = {
      kind: 'exposure',
      visitor: 'a'.repeat(64),
      experiment: 'hero-copy',
      variant: 'bold',
      placement: 'hero',
      at: T0,
    }
    const other = { ...good, visitor: 'c'.repeat(64) }
    const batch = batchOf([
      good,
      { v: 1, events: [other, { kind: 'conversion', visitor: 'y', goal: 'g', at: -1 }] },
      { v: 1, events: 'nope' },
      { kind: 'exposure', visitor: 'x' },
      'junk',
      null,
      { kind: 'served', placement: 'p', variant: 'v', source: 'evil', at: T0 },
    ])
    const ctx = createExecutionContext()
    await worker.queue(batch, env, ctx)
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true)
    expect(await rows(env.DB, 'exposures')).toHaveLength(2)
    const logged = warn.mock.calls.flat().join('\n')
    expect(logged).toContain('measure_queue_malformed')
    expect(logged).toContain('"malformed":6')
  })

  it('retries the whole batch when D1 fails, and the retry stores it once', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const events: MeasureEvent[] = [
      { kind: 'exposure', visitor: 'b'.repeat(64), experiment: 'hero-copy', variant: 'bold', placement: 'hero', at: T0 },
      { kind: 'served', placement: 'hero', variant: 'bold', source: 'experiment', at: T0 },
    ]
    await env.DB.exec('ALTER TABLE exposures RENAME TO exposures_away')
    let failed
    try {
      const batch = batchOf(events)
      const ctx = createExecutionContext()
      await worker.queue(batch, env, ctx)
      failed = await getQueueResult(batch, ctx)
    } finally {
      await env.DB.exec('ALTER TABLE exposures_away RENAME TO exposures')
    }
    expect(failed.retryBatch.retry).toBe(true)
    expect(failed.ackAll).toBe(false)
    expect(error.mock.calls.flat().join('\n')).toContain('measure_queue_write_failed')
    // One transaction: the served counter was not half-written before the failure.
    expect(await rows(env.DB, 'served')).toEqual([])
    const retry = batchOf(events)
    const ctx = createExecutionContext()
    await worker.queue(retry, env, ctx)
    expect((await getQueueResult(retry, ctx)).ackAll).toBe(true)
    expect((await rows(env.DB, 'served')).map((r) => r.count)).toEqual([1])
  })

  it('through the real queue in miniflare: the consumer stores the same rows as the direct path', async () => {
    await play(directEnv, SCENARIO)
    const direct = await snapshot()
    await clearTables(env.DB)
    await play(env, SCENARIO) // env.EVENTS is the queue of wrangler.toml; its consumer is src/worker.ts
    const deadline = Date.now() + 15_000 // max_batch_timeout is 5 s
    let stored = await snapshot()
    while (Date.now() < deadline && JSON.stringify(stored) !== JSON.stringify(direct)) {
      await new Promise((r) => setTimeout(r, 250))
      stored = await snapshot()
    }
    expect(stored).toEqual(direct)
  })
})
