import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { segmentsCommands } from '../../src/segments/cli'
import { adjustedRandIndex, PLANTED_HEADER, plantedSample, toCsv } from '../segments/planted'
import { root } from './admin-harness'

const bin = join(root, 'bin', 'veneer.mjs')
let dir: string

function veneer(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    )
  })
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'veneer-segments-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('veneer segments discover <sample.csv> (the real binary)', () => {
  it('--k auto --json --assign: finds the planted k, prints SPEC 15 JSON with assignments in input order', async () => {
    const planted = plantedSample(4, 2000, 8)
    writeFileSync(join(dir, 'sample.csv'), toCsv(planted))
    const r = await veneer(['segments', 'discover', 'sample.csv', '--k', 'auto', '--json', '--assign', '--as-of', '2026-11-30'])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as {
      k: number
      silhouette: number
      clusters: { id: number; size: number; centroid: Record<string, number>; when: unknown; accuracy: number }[]
      assignments: number[]
    }
    expect(out.k).toBe(4)
    expect(out.silhouette).toBeGreaterThan(0.5)
    expect(out.clusters).toHaveLength(4)
    expect(Object.keys(out.clusters[0]?.centroid ?? {})).toContain('behavior.pageViews')
    expect(adjustedRandIndex(planted.labels, out.assignments)).toBeGreaterThanOrEqual(0.9)
    for (const c of out.clusters) expect(c.accuracy).toBeGreaterThanOrEqual(0.85)
  })

  it('prints a readable report by default', async () => {
    writeFileSync(join(dir, 'small.csv'), toCsv(plantedSample(3, 600, 2)))
    const r = await veneer(['segments', 'discover', 'small.csv', '--k', '3'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('k = 3')
    expect(r.stdout).toMatch(/cluster 0: \d+ visitors/)
    expect(r.stdout).toContain('condition: accuracy')
  })

  it('exit 1 for bad input, 2 for a file it cannot read', async () => {
    writeFileSync(join(dir, 'bad.csv'), 'visitor,behavior.pageViews\nv1,many\n')
    const bad = await veneer(['segments', 'discover', 'bad.csv'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('line 2, column "behavior.pageViews"')
    expect((await veneer(['segments', 'discover', 'nope.csv'])).code).toBe(2)
    expect((await veneer(['segments', 'discover', 'bad.csv', '--k', 'lots'])).code).toBe(1)
    expect((await veneer(['segments', 'cluster'])).code).toBe(1)
  })
})

describe('veneer segments discover --remote', () => {
  it('downloads the stored sample (GET api/segments/sample) and clusters all of it here, with the full settings', async () => {
    const planted = plantedSample(4, 2500, 31)
    const asked: string[] = []
    const fakeFetch = (async (input: URL | RequestInfo, init?: RequestInit) => {
      asked.push(`${String(input)} ${new Headers(init?.headers).get('authorization')}`)
      return Response.json({ days: 7, features: PLANTED_HEADER.slice(1), rows: planted.rows })
    }) as typeof fetch
    let out = ''
    let err = ''
    const io = { out: (t: string) => (out += t), err: (t: string) => (err += t) }
    const cmd = segmentsCommands({ fetch: fakeFetch, env: { VENEER_ADMIN_TOKEN: 'tok', VENEER_URL: 'https://shop.example' } })
    const code = await cmd.segments.run(['discover'], { remote: true, json: true, assign: true, days: '14' }, io)
    expect(err).toBe('')
    expect(code).toBe(0)
    expect(asked).toEqual(['https://shop.example/__veneer/api/segments/sample?days=14 Bearer tok'])
    const r = JSON.parse(out) as { k: number; rows: number; sampledFrom?: number; assignments: number[] }
    expect(r.k).toBe(4)
    expect(r.rows).toBe(2500)
    expect(r.sampledFrom).toBeUndefined()
    expect(adjustedRandIndex(planted.labels, r.assignments)).toBeGreaterThanOrEqual(0.9)
    // A body that is not a sample is an I/O failure (exit 2), not a crash.
    const bad = segmentsCommands({
      fetch: (async () => Response.json({ rows: 'x' })) as unknown as typeof fetch,
      env: { VENEER_ADMIN_TOKEN: 't' },
    })
    err = ''
    expect(await bad.segments.run(['discover'], { remote: true }, io)).toBe(2)
    expect(err).toContain('not a sample')
  })
})
