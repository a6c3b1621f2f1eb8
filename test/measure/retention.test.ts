import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { Env } from '../../src/env'
import { type RawRow, rawKind } from '../../src/measure/raw-row'
import { servedKind } from '../../src/measure/served-row'
import { utcDay } from '../../src/measure/store'
import { forgetRuleset } from '../../src/rules/store'
import worker from '../../src/worker'
import { clearTables, env, rows, RULESET_DOC, storeRows } from './helpers'

const DAY = 86_400_000
const NOW = Date.parse('2026-09-01T03:17:00Z')
const v = (c: string) => c.repeat(64)

async function seed(): Promise<void> {
  const exp = (c: string, arm: string, at: number): RawRow => ({
    table: 'exposures',
    visitor: v(c),
    experiment: 'hero-copy',
    arm,
    placement: 'hero',
    at,
  })
  const conv = (c: string, arm: string, at: number): RawRow => ({
    table: 'conversions',
    visitor: v(c),
    experiment: 'hero-copy',
    arm,
    goal: 'purchase',
    at,
    value: null,
  })
  await storeRows(env.DB, rawKind, [
    exp('a', 'bold', NOW - 100 * DAY),
    exp('b', 'control', NOW - 40 * DAY),
    exp('c', 'bold', NOW - 10 * DAY),
    // a's conversion is recent, but its exposure expires: it goes too (no conversion without exposure).
    conv('a', 'bold', NOW - 5 * DAY),
    conv('b', 'control', NOW - 35 * DAY),
    conv('c', 'bold', NOW - 1 * DAY),
  ])
  await storeRows(env.DB, servedKind, [
    { day: utcDay(NOW - 100 * DAY), placement: 'hero', variant: 'bold', source: 'experiment', count: 1 },
    { day: utcDay(NOW - 10 * DAY), placement: 'hero', variant: 'bold', source: 'experiment', count: 1 },
  ])
}

async function runCron(e: Env = env): Promise<void> {
  const controller = createScheduledController({ scheduledTime: NOW, cron: '17 3 * * *' })
  const ctx = createExecutionContext()
  await worker.scheduled(controller, e, ctx)
  await waitOnExecutionContext(ctx)
}

const summary = async () => ({
  exposures: (await rows(env.DB, 'exposures')).map((r) => (r.visitor as string)[0]),
  conversions: (await rows(env.DB, 'conversions')).map((r) => (r.visitor as string)[0]),
  served: (await rows(env.DB, 'served')).map((r) => r.day),
})

beforeEach(async () => {
  forgetRuleset(env.RULES)
  await clearTables(env.DB)
  await env.RULES.delete('ruleset')
  vi.spyOn(console, 'log').mockImplementation(() => undefined)
})

describe('retention (scheduled handler)', () => {
  it('deletes rows older than settings.retentionDays', async () => {
    await env.RULES.put('ruleset', JSON.stringify({ ...RULESET_DOC, settings: { retentionDays: 30 } }))
    await seed()
    await runCron()
    expect(await summary()).toEqual({ exposures: ['c'], conversions: ['c'], served: ['2026-08-22'] })
  })

  it('uses 90 days when no ruleset is stored', async () => {
    await seed()
    await runCron()
    expect(await summary()).toEqual({ exposures: ['b', 'c'], conversions: ['b', 'c'], served: ['2026-08-22'] })
  })

  it('deletes nothing when the ruleset cannot be read, rather than guess a shorter period', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    await env.RULES.put('ruleset', '{ not json')
    await seed()
    await runCron()
    expect((await summary()).exposures).toEqual(['a', 'b', 'c'])
    expect(warn.mock.calls.flat().join('\n')).toContain('measure_retention_skipped')
  })

  it('does nothing (and does not throw) without a D1 binding', async () => {
    await expect(runCron({ ...env, DB: undefined })).resolves.toBeUndefined()
  })
})
