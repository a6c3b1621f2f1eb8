import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import type { Env } from '../../src/env'
import * as api from '../../src/index'
import { queueDispatcher, scheduledRunner, type QueueConsumer } from '../../src/jobs'
import worker from '../../src/worker'
import { CF, PAGE, rulesKv, ruleset } from '../helpers'

const baseEnv = env as unknown as Env

async function get(w: api.VeneerWorker, e: Env, path = '/'): Promise<Response> {
  const ctx = createExecutionContext()
  const res = await w.fetch(new Request(`https://shop.example${path}`, { cf: CF.newYork } as RequestInit), e, ctx)
  await res.clone().text()
  await waitOnExecutionContext(ctx)
  return res
}

describe('the package surface', () => {
  it('exports the whole Worker, the middleware, the endpoints, the queue consumer and the jobs', () => {
    const surface = new Map<string, unknown>(Object.entries(api))
    for (const name of [
      'veneer',
      'personalize',
      'veneerEndpoints',
      'createApp',
      'veneerQueue',
      'veneerScheduled',
      'consumeAggregateBatch',
      'runRetention',
      'checkGuardrails',
      'scheduledRecsBuild',
      'runBanditUpdates',
      'queueDispatcher',
      'scheduledRunner',
    ])
      expect(typeof surface.get(name), name).toBe('function')
    expect(Object.keys(api.QUEUE_CONSUMERS)).toContain('measure')
    expect(Object.keys(api.SCHEDULED_JOBS)).toEqual(expect.arrayContaining(['retention', 'guardrails', 'recs', 'bandits']))
  })

  it('src/worker.ts is veneer() itself: fetch, queue and scheduled', () => {
    expect(worker.queue).toBe(api.veneerQueue)
    expect(worker.scheduled).toBe(api.veneerScheduled)
    expect(typeof worker.fetch).toBe('function')
  })

  it('refuses an origin that is not an http(s) URL or a function, at once', () => {
    expect(() => api.veneer({ origin: 'ftp://example.com' })).toThrow(/origin must be an http\(s\) URL or a function/)
    expect(() => api.veneer({ origin: 'not a url' })).toThrow(TypeError)
    expect(() => api.veneer({ origin: 42 as unknown as string })).toThrow(TypeError)
  })

  it('veneer({ origin: handler }) personalizes the pages the handler serves', async () => {
    const seen: string[] = []
    const w = api.veneer({
      origin: (request) => {
        seen.push(new URL(request.url).pathname)
        return new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } })
      },
    })
    const res = await get(w, { ...baseEnv, ORIGIN_URL: undefined, RULES: await rulesKv(ruleset()) })
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(await res.text()).toContain('<h1>Hello New York</h1>')
    expect(seen).toEqual(['/'])
    // Veneer's own endpoints never reach the handler.
    const health = await get(w, baseEnv, '/__veneer/health')
    expect(health.status).toBe(200)
    expect(seen).toEqual(['/'])
  })

  it('veneer({ origin: url }) fetches from that URL, ahead of ORIGIN_URL', async () => {
    const asked: string[] = []
    const w = api.veneer({
      origin: 'https://pages.example/base',
      fetchOrigin: async (req) => {
        asked.push(req.url)
        return new Response(PAGE, { headers: { 'content-type': 'text/html' } })
      },
    })
    const res = await get(w, { ...baseEnv, ORIGIN_URL: 'https://ignored.example', RULES: await rulesKv(ruleset()) }, '/p?x=1')
    expect(res.headers.get('x-veneer')).toBe('personalized')
    expect(asked).toHaveLength(1)
    expect(asked[0]).toMatch(/^https:\/\/pages\.example\/base\/p\?x=1$|^https:\/\/pages\.example\/p\?x=1$/)
  })
})

describe('queue dispatch by message kind', () => {
  function recorder(name: string, log: string[], fail = false): QueueConsumer {
    return async (batch) => {
      log.push(`${name}:${batch.messages.map((m) => String((m.body as { n: number }).n)).join(',')}`)
      if (fail) throw new Error(`${name} failed`)
      batch.ackAll()
    }
  }

  it('a batch of one kind goes whole to its consumer (ackAll)', async () => {
    const log: string[] = []
    const dispatch = queueDispatcher({ measure: recorder('measure', log), recs: recorder('recs', log) })
    const batch = createMessageBatch('q', [
      { id: 'a', timestamp: new Date(), attempts: 1, body: { kind: 'recs', n: 1 } },
      { id: 'b', timestamp: new Date(), attempts: 1, body: { kind: 'recs', n: 2 } },
    ])
    const ctx = createExecutionContext()
    await dispatch(batch, baseEnv, ctx)
    expect(log).toEqual(['recs:1,2'])
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true)
  })

  it('a mixed batch is split; a failing consumer retries only its own messages', async () => {
    const log: string[] = []
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const dispatch = queueDispatcher({ measure: recorder('measure', log), recs: recorder('recs', log, true) })
    const batch = createMessageBatch('q', [
      { id: 'a', timestamp: new Date(), attempts: 1, body: { v: 1, events: [], n: 1 } },
      { id: 'b', timestamp: new Date(), attempts: 1, body: { kind: 'recs', n: 2 } },
      // A single measurement event has a kind of its own (exposure): it stays with `measure`.
      { id: 'c', timestamp: new Date(), attempts: 1, body: { kind: 'exposure', n: 3 } },
    ])
    const ctx = createExecutionContext()
    await dispatch(batch, baseEnv, ctx)
    expect(log.sort()).toEqual(['measure:1,3', 'recs:2'])
    const result = await getQueueResult(batch, ctx)
    expect(result.explicitAcks.sort()).toEqual(['a', 'c'])
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(['b'])
    expect(error.mock.calls.flat().join('\n')).toContain('queue_consumer_failed')
    error.mockRestore()
  })
})

describe('scheduled jobs', () => {
  it('runs every job; one failing does not stop the others, and is logged', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const ran: string[] = []
    const run = scheduledRunner({
      first: async () => {
        ran.push('first')
        throw new Error('boom')
      },
      second: async (controller) => {
        ran.push(`second ${controller.cron}`)
      },
    })
    const ctx = createExecutionContext()
    await run(createScheduledController({ scheduledTime: Date.now(), cron: '17 3 * * *' }), baseEnv, ctx)
    await waitOnExecutionContext(ctx)
    expect(ran.sort()).toEqual(['first', 'second 17 3 * * *'])
    expect(error.mock.calls.flat().join('\n')).toMatch(/scheduled_job_failed.*"job":"first"/)
    error.mockRestore()
  })
})
