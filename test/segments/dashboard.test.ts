import { beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { BASE, clearRules, testEnv, TOKEN } from '../admin/helpers'
import { env } from '../measure/helpers'
import { PLANTED_HEADER, plantedSample } from './planted'

const app = createApp()
const ADMIN = `${BASE}/__veneer/admin`

function get(cookie: string | undefined, url: string) {
  return app.request(url, { headers: cookie === undefined ? {} : { cookie } }, testEnv)
}
function post(path: string, fields: Record<string, string>, cookie: string) {
  return app.request(
    `${ADMIN}${path}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: BASE, cookie },
      body: new URLSearchParams(fields).toString(),
    },
    testEnv,
  )
}
async function login(): Promise<{ cookie: string; csrf: string }> {
  const res = await post('/login', { token: TOKEN }, '')
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  const page = await (await get(cookie, ADMIN)).text()
  return { cookie, csrf: /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '' }
}
const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#39;/g, "'")

beforeEach(async () => {
  await clearRules()
  await env.RULES.delete('segments:latest')
  await env.DB.batch(['segment_sample'].map((t) => env.DB.prepare(`DELETE FROM ${t}`)))
})

async function storePlanted(): Promise<void> {
  const p = plantedSample(3, 600, 21)
  const day = new Date().toISOString().slice(0, 10)
  const names = PLANTED_HEADER.slice(1)
  const stmt = env.DB.prepare('INSERT INTO segment_sample (day, slot, priority, row) VALUES (?1, ?2, 0.5, ?3)')
  await env.DB.batch(
    p.rows.map((r, slot) => stmt.bind(day, slot, JSON.stringify(Object.fromEntries(names.slice(0, 5).map((n, j) => [n, r[j]]))))),
  )
}

describe('dashboard: discovered segments', () => {
  it('needs a session, and sends the dashboard security headers', async () => {
    const res = await get(undefined, `${ADMIN}/segments`)
    expect(res.status).toBe(401)
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(res.headers.get('x-frame-options')).toBe('DENY')
  })

  it('shows each cluster with its condition, and one action adds it to a validated draft (not published)', async () => {
    await env.RULES.put('ruleset', JSON.stringify({ version: 'v1', segments: [{ id: 'eu', when: { 'geo.isEU': true } }] }))
    await storePlanted()
    const { cookie, csrf } = await login()
    const page = await (await get(cookie, `${ADMIN}/segments`)).text()
    expect(page).toContain('k = 3')
    expect(page.match(/data-testid="cluster"/g)).toHaveLength(3)
    const when = unescapeHtml(/name="when" value="([^"]+)"/.exec(page)?.[1] ?? '')
    expect(JSON.parse(when)).toBeTypeOf('object')

    const res = await post('/segments/add', { csrf, id: 'heavy-buyers', when, description: 'from discovery' }, cookie)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('Segment &quot;heavy-buyers&quot; was added to the draft below')
    expect(html).toContain('Valid: nothing blocks a publish.')
    const draft = JSON.parse(
      unescapeHtml(/<textarea[^>]*name="ruleset"[^>]*>([\s\S]*?)<\/textarea>/.exec(html)?.[1] ?? '{}'),
    ) as {
      segments: { id: string; when: unknown }[]
    }
    expect(draft.segments.map((s) => s.id)).toEqual(['eu', 'heavy-buyers'])
    expect(draft.segments[1]?.when).toEqual(JSON.parse(when))
    // Nothing was published.
    expect(JSON.parse((await env.RULES.get('ruleset')) ?? '{}').segments).toHaveLength(1)
  })

  it('shows the latest stored discovery with its time, without clustering again; "recompute now" computes one', async () => {
    await storePlanted()
    const { cookie } = await login()
    const first = await (await get(cookie, `${ADMIN}/segments`)).text()
    expect(first).toContain('Computed now')
    expect(first).toContain('600 sampled visitors')
    // The k = auto result became the latest discovery (written in the background).
    let latest: { at: string; result: { k: number } } | null = null
    for (let i = 0; i < 50 && latest === null; i++) {
      latest = await env.RULES.get('segments:latest', 'json')
      if (latest === null) await new Promise((r) => setTimeout(r, 20))
    }
    expect(latest?.result.k).toBe(3)
    // With the sample gone, the page still shows the stored clusters and when they were found.
    await env.DB.prepare('DELETE FROM segment_sample').run()
    const second = await (await get(cookie, `${ADMIN}/segments`)).text()
    expect(second).toContain(`Latest discovery: ${latest?.at.slice(0, 16).replace('T', ' ')} UTC`)
    expect(second.match(/data-testid="cluster"/g)).toHaveLength(3)
    const fresh = await (await get(cookie, `${ADMIN}/segments?fresh=1`)).text()
    expect(fresh).toContain('Computed now')
    expect(fresh).toContain('at least 20 are needed')
  })

  it('a duplicate id is added to the draft but reported invalid; a forged form is refused', async () => {
    await env.RULES.put('ruleset', JSON.stringify({ segments: [{ id: 'eu', when: { 'geo.isEU': true } }] }))
    const { cookie, csrf } = await login()
    const dup = await post('/segments/add', { csrf, id: 'eu', when: '{"behavior.purchases":{"$gte":1}}' }, cookie)
    expect(dup.status).toBe(422)
    expect(await dup.text()).toContain('does not validate yet')
    const forged = await post('/segments/add', { csrf: 'wrong', id: 'x', when: '{}' }, cookie)
    expect(forged.status).toBe(403)
  })

  it('says what is missing when there is no sample yet, and links each experiment to its opportunities', async () => {
    await env.RULES.put(
      'ruleset',
      JSON.stringify({
        placements: [
          {
            id: 'hero',
            paths: ['/'],
            selector: '#hero',
            variants: [{ id: 'A', ops: [{ op: 'setText', value: 'a' }] }],
            rules: [{ experiment: { id: 'hero-copy', split: { control: 50, A: 50 } } }],
          },
        ],
      }),
    )
    const { cookie } = await login()
    const page = await (await get(cookie, `${ADMIN}/segments`)).text()
    expect(page).toContain('at least 20 are needed')
    expect(page).toContain('href="/__veneer/admin/opportunities/hero-copy"')
  })
})

describe('dashboard: opportunities', () => {
  it('shows the segment whose best arm differs, with its proposed rule', async () => {
    await env.DB.prepare(
      `CREATE TABLE IF NOT EXISTS stats_daily (day TEXT NOT NULL, experiment TEXT NOT NULL, arm TEXT NOT NULL, goal TEXT NOT NULL,
       segment TEXT NOT NULL DEFAULT '*', visitors INTEGER NOT NULL DEFAULT 0, conversions INTEGER NOT NULL DEFAULT 0,
       sum_value REAL NOT NULL DEFAULT 0, sum_value2 REAL NOT NULL DEFAULT 0, sum_x REAL NOT NULL DEFAULT 0, sum_x2 REAL NOT NULL DEFAULT 0,
       sum_xy REAL NOT NULL DEFAULT 0, sum_xv REAL NOT NULL DEFAULT 0, PRIMARY KEY (experiment, segment, goal, arm, day))`,
    ).run()
    await env.DB.prepare('DELETE FROM stats_daily').run()
    const rows: [string, string, string, number, number][] = [
      ['*', 'A', '', 10_000, 0],
      ['*', 'B', '', 10_000, 0],
      ['*', 'A', 'purchase', 0, 1000],
      ['*', 'B', 'purchase', 0, 1200],
      ['mobile', 'A', '', 4000, 0],
      ['mobile', 'B', '', 4000, 0],
      ['mobile', 'A', 'purchase', 0, 520],
      ['mobile', 'B', 'purchase', 0, 340],
    ]
    await env.DB.batch(
      rows.map(([segment, arm, goal, v, c]) =>
        env.DB.prepare(
          `INSERT INTO stats_daily (day, experiment, arm, goal, segment, visitors, conversions) VALUES ('2026-11-29', 'hero-copy', ?1, ?2, ?3, ?4, ?5)`,
        ).bind(arm, goal, segment, v, c),
      ),
    )
    const { cookie } = await login()
    const res = await get(cookie, `${ADMIN}/opportunities/hero-copy`)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('data-testid="opportunity-mobile"')
    expect(unescapeHtml(html)).toContain('{"segment":"mobile","variant":"A"}')
    expect(html).toContain('Overall winner: <b>B</b>')
    expect((await get(cookie, `${ADMIN}/opportunities/none-such`)).status).toBe(404)
  })

  it('lists a proposed segment of the latest discovery as an estimate on the sample', async () => {
    const today = new Date().toISOString().slice(0, 10)
    await env.DB.prepare('DELETE FROM stats_daily').run()
    const stat = (arm: string, goal: string, v: number, c: number) =>
      env.DB.prepare(
        `INSERT INTO stats_daily (day, experiment, arm, goal, segment, visitors, conversions) VALUES (?1, 'hero-copy', ?2, ?3, '*', ?4, ?5)`,
      ).bind(today, arm, goal, v, c)
    await env.DB.batch([
      stat('A', '', 10_000, 0),
      stat('B', '', 10_000, 0),
      stat('A', 'purchase', 0, 1000),
      stat('B', 'purchase', 0, 1300),
    ])
    // 1,200 sampled visitors: buyers (purchases ≥ 1) convert more on A, the others more on B.
    const insert = env.DB.prepare('INSERT INTO segment_sample (day, slot, priority, row, exposures) VALUES (?1, ?2, 0.5, ?3, ?4)')
    const writes = Array.from({ length: 1200 }, (_, i) => {
      const buyer = i % 3 === 0
      const arm = i % 2 === 0 ? 'A' : 'B'
      const rate = buyer ? (arm === 'A' ? 0.4 : 0.15) : arm === 'A' ? 0.05 : 0.15
      const converted = (i * 7919) % 1000 < rate * 1000
      return insert.bind(
        today,
        i,
        JSON.stringify({ 'behavior.purchases': buyer ? 2 : 0, 'behavior.pageViews': 5 }),
        JSON.stringify([['hero-copy', arm, converted ? ['purchase'] : []]]),
      )
    })
    for (let i = 0; i < writes.length; i += 400) await env.DB.batch(writes.slice(i, i + 400))
    await env.RULES.put(
      'segments:latest',
      JSON.stringify({
        at: '2026-11-30T03:17:00.000Z',
        days: 7,
        result: {
          k: 1,
          silhouette: 0,
          rows: 1200,
          work: { distances: 0 },
          undescribed: [],
          asOf: today,
          clusters: [
            {
              id: 0,
              size: 400,
              share: 0.33,
              centroid: {},
              when: { 'behavior.purchases': { $gte: 1 } },
              accuracy: 1,
              precision: 1,
              recall: 1,
            },
          ],
        },
      }),
    )
    const { cookie } = await login()
    const html = await (await get(cookie, `${ADMIN}/opportunities/hero-copy`)).text()
    expect(html).toContain('data-testid="opportunity-cluster-0"')
    expect(html).toContain('estimated on 400 sampled visitors')
    expect(html).toContain('estimate on the sample (n = 400)')
    expect(html).toContain('the clusters of the discovery of 2026-11-30 03:17 UTC')
    expect(html).toContain('1200 sampled visitors exposed to this test')

    // A condition typed in the form is estimated beside the clusters (its own row, `when-1`).
    const typed = await (
      await get(cookie, `${ADMIN}/opportunities/hero-copy?when=${encodeURIComponent('{"behavior.purchases":{"$lt":1}}')}`)
    ).text()
    expect(typed).toContain('data-testid="segment-when-1"')
    expect(typed).toContain('data-testid="segment-cluster-0"')
    // One it cannot estimate is refused with the reason, and shown back escaped.
    const bad = await get(cookie, `${ADMIN}/opportunities/hero-copy?when=${encodeURIComponent('{"profile.tier":"<b>x</b>"}')}`)
    expect(bad.status).toBe(400)
    const badHtml = await bad.text()
    expect(badHtml).toContain('does not record profile.tier')
    expect(badHtml).not.toContain('<b>x</b>')
  })
})
