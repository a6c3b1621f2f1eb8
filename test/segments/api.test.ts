import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Env } from '../../src/env'
import { forgetRuleset } from '../../src/rules/store'
import { PLANTED_HEADER, plantedSample } from './planted'
import { requestWorkBound } from '../../src/segments/discover'
import worker from '../../src/worker'
import { env } from '../measure/helpers'

const AUTH = { authorization: 'Bearer test-admin-token' }

async function get(
  path: string,
  headers: Record<string, string> = AUTH,
  e: Env = env,
): Promise<{ status: number; body: unknown }> {
  const ctx = createExecutionContext()
  const res = await worker.fetch(new Request(`https://shop.example${path}`, { headers }), e, ctx)
  const body: unknown = await res.json()
  await waitOnExecutionContext(ctx)
  return { status: res.status, body }
}

/** Stores a planted sample in today's slots as the sampler would (one JSON object per row). */
async function storePlanted(k: number, n: number): Promise<void> {
  const p = plantedSample(k, n, 77)
  const day = new Date().toISOString().slice(0, 10)
  const names = PLANTED_HEADER.slice(1)
  const stmt = env.DB.prepare('INSERT INTO segment_sample (day, slot, priority, row) VALUES (?1, ?2, 0.5, ?3)')
  const writes = p.rows.map((r, slot) => {
    const row: Record<string, number | string> = {}
    names.forEach((name, j) => {
      const v = r[j] as number
      if (name === 'device.type=mobile') row['device.type'] = v === 1 ? 'mobile' : 'desktop'
      else if (name === 'geo.continent=EU') row['geo.continent'] = v === 1 ? 'EU' : 'NA'
      else if (name !== 'device.type=desktop') row[name] = v
    })
    return stmt.bind(day, slot, JSON.stringify(row))
  })
  for (let i = 0; i < writes.length; i += 500) await env.DB.batch(writes.slice(i, i + 500))
}

// The daily statistics table of migration 0002 (helper "measure"), created here when this branch
// runs without it; after the merge the migration has made it and this is a no-op.
const STATS_DAILY = `CREATE TABLE IF NOT EXISTS stats_daily (
  day TEXT NOT NULL, experiment TEXT NOT NULL, arm TEXT NOT NULL, goal TEXT NOT NULL, segment TEXT NOT NULL DEFAULT '*',
  visitors INTEGER NOT NULL DEFAULT 0, conversions INTEGER NOT NULL DEFAULT 0, sum_value REAL NOT NULL DEFAULT 0,
  sum_value2 REAL NOT NULL DEFAULT 0, sum_x REAL NOT NULL DEFAULT 0, sum_x2 REAL NOT NULL DEFAULT 0,
  sum_xy REAL NOT NULL DEFAULT 0, sum_xv REAL NOT NULL DEFAULT 0, PRIMARY KEY (experiment, segment, goal, arm, day))`

async function stat(day: string, segment: string, arm: string, visitors: number, conversions: number): Promise<void> {
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO stats_daily (day, experiment, arm, goal, segment, visitors) VALUES (?1, 'hero-copy', ?2, '', ?3, ?4)`,
    ).bind(day, arm, segment, visitors),
    env.DB.prepare(
      `INSERT INTO stats_daily (day, experiment, arm, goal, segment, conversions) VALUES (?1, 'hero-copy', ?2, 'purchase', ?3, ?4)`,
    ).bind(day, arm, segment, conversions),
  ])
}

beforeAll(async () => {
  await env.DB.prepare(STATS_DAILY).run()
  await env.RULES.put(
    'ruleset',
    JSON.stringify({ version: 'seg-api-1', segments: [{ id: 'mobile', when: { 'device.type': 'mobile' } }] }),
  )
  forgetRuleset(env.RULES)
})
beforeEach(async () => {
  await env.DB.batch(['segment_sample', 'stats_daily'].map((t) => env.DB.prepare(`DELETE FROM ${t}`)))
  await env.RULES.delete('segments:latest')
})

describe('GET api/segments/discover', () => {
  it('clusters the stored sample and describes each cluster', async () => {
    await storePlanted(3, 900)
    const { status, body } = await get('/__veneer/api/segments/discover?k=auto&assign=1')
    expect(status).toBe(200)
    const r = body as { k: number; clusters: { when: unknown; accuracy: number }[]; assignments: number[] }
    expect(r.k).toBe(3)
    expect(r.assignments).toHaveLength(900)
    for (const c of r.clusters) expect(c.accuracy).toBeGreaterThanOrEqual(0.85)
    expect(JSON.stringify(r.clusters)).toContain('"device.type=mobile"')
  })

  it('needs the admin token, and says why it cannot answer', async () => {
    expect((await get('/__veneer/api/segments/discover', {})).status).toBe(401)
    expect((await get('/__veneer/api/segments/discover?k=zero')).status).toBe(400)
    expect((await get('/__veneer/api/segments/discover?days=9999')).status).toBe(400)
    const empty = await get('/__veneer/api/segments/discover')
    expect(empty.status).toBe(422)
    expect(empty.body).toMatchObject({ error: 'sample_unusable' })
    expect((await get('/__veneer/api/segments/discover', AUTH, { ...env, DB: undefined })).status).toBe(503)
  })
})

describe('GET api/segments/sample', () => {
  it('returns the stored sample (features and numbers, no ids) to the admin only', async () => {
    await storePlanted(3, 300)
    expect((await get('/__veneer/api/segments/sample', {})).status).toBe(401)
    expect((await get('/__veneer/api/segments/sample?days=0')).status).toBe(400)
    const { status, body } = await get('/__veneer/api/segments/sample?days=7')
    expect(status).toBe(200)
    const r = body as { features: string[]; rows: number[][] }
    expect(r.features).toContain('behavior.pageViews')
    expect(r.features).toContain('device.type=mobile')
    expect(r.rows).toHaveLength(300)
    for (const row of r.rows) expect(row).toHaveLength(r.features.length)
  })
})

describe('the daily scheduled discovery', () => {
  async function scheduled(cron: string): Promise<void> {
    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron }), env, ctx)
    await waitOnExecutionContext(ctx)
  }
  it('stores the latest discovery on the daily cron (bounded), not on the 5-minute one', async () => {
    await storePlanted(4, 3000)
    await scheduled('*/5 * * * *')
    expect(await env.RULES.get('segments:latest')).toBeNull()
    await scheduled('17 3 * * *')
    const latest = await env.RULES.get<{ at: string; days: number; result: { k: number; rows: number; sampledFrom: number } }>(
      'segments:latest',
      'json',
    )
    expect(latest?.result.k).toBe(4)
    expect(latest?.result.rows).toBe(1000)
    expect(latest?.result.sampledFrom).toBe(3000)
    expect(latest?.days).toBe(7)
    expect(Date.now() - Date.parse(latest?.at ?? '')).toBeLessThan(60_000)
  })
  it('GET api/segments/discover with k = auto is bounded and becomes the latest discovery', async () => {
    await storePlanted(3, 1500)
    const { body } = await get('/__veneer/api/segments/discover')
    const r = body as { k: number; rows: number; sampledFrom: number; work: { distances: number } }
    expect([r.k, r.rows, r.sampledFrom]).toEqual([3, 1000, 1500])
    expect(r.work.distances).toBeLessThanOrEqual(requestWorkBound(1500))
    const latest = await env.RULES.get<{ result: { k: number } }>('segments:latest', 'json')
    expect(latest?.result.k).toBe(3)
  })
})

describe('GET api/opportunities/:experimentId', () => {
  it('lists the segment whose best arm differs from the overall winner, with BH-adjusted p-values', async () => {
    // Two days of counts: B wins overall; A wins on mobile; "returning" has no difference of its own.
    for (const day of ['2026-11-28', '2026-11-29']) {
      await stat(day, '*', 'A', 5000, 500)
      await stat(day, '*', 'B', 5000, 600)
      await stat(day, 'mobile', 'A', 2000, 260)
      await stat(day, 'mobile', 'B', 2000, 170)
      await stat(day, 'returning', 'A', 1500, 165)
      await stat(day, 'returning', 'B', 1500, 170)
    }
    const { status, body } = await get('/__veneer/api/opportunities/hero-copy')
    expect(status).toBe(200)
    const r = body as {
      winner: string
      goal: string
      segments: { id: string; best: string; pAdjusted: number; when: unknown }[]
      opportunities: { segment: string; arm: string; gainPer1000: number; rule: unknown }[]
    }
    expect(r.winner).toBe('B')
    expect(r.goal).toBe('purchase')
    expect(r.opportunities.map((o) => [o.segment, o.arm])).toEqual([['mobile', 'A']])
    expect(r.opportunities[0]?.rule).toEqual({ segment: 'mobile', variant: 'A' })
    // share 0.4 × (0.13 − 0.085) × 1000 = 18 per 1,000 visitors.
    expect(r.opportunities[0]?.gainPer1000).toBeCloseTo(18, 6)
    expect(r.segments.find((s) => s.id === 'mobile')?.when).toEqual({ 'device.type': 'mobile' })
    expect(r.segments.find((s) => s.id === 'returning')?.pAdjusted).toBeGreaterThan(0.05)
  })

  it('404 for an experiment with no data, 400 for a bad id', async () => {
    expect((await get('/__veneer/api/opportunities/nothing-here')).status).toBe(404)
    expect((await get('/__veneer/api/opportunities/%3Cx%3E')).status).toBe(400)
    expect((await get('/__veneer/api/opportunities/hero-copy', {})).status).toBe(401)
  })
})
