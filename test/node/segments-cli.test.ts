import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adjustedRandIndex, PLANTED_HEADER, plantedSample, toCsv } from '../segments/planted'
import { root } from './admin-harness'

const bin = join(root, 'bin', 'veneer.mjs')
let dir: string

function veneer(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, ...env }, timeout: 120_000 },
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

describe('veneer segments discover --remote (the real binary against a stand-in Worker)', () => {
  it('downloads the stored sample (GET api/segments/sample) and clusters all of it here, with the full settings', async () => {
    const planted = plantedSample(4, 2500, 31)
    const asked: string[] = []
    let body: unknown = { days: 7, features: PLANTED_HEADER.slice(1), rows: planted.rows }
    const server = createServer((req, res) => {
      asked.push(`${req.url} ${req.headers.authorization}`)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    })
    await new Promise<void>((resolve) => server.listen(9711, '127.0.0.1', resolve))
    try {
      const url = 'http://127.0.0.1:9711'
      const r = await veneer(['segments', 'discover', '--remote', '--url', url, '--days', '14', '--json', '--assign'], {
        VENEER_ADMIN_TOKEN: 'tok',
      })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(asked).toEqual(['/__veneer/api/segments/sample?days=14 Bearer tok'])
      const out = JSON.parse(r.stdout) as { k: number; rows: number; sampledFrom?: number; assignments: number[] }
      expect(out.k).toBe(4)
      expect(out.rows).toBe(2500)
      expect(out.sampledFrom).toBeUndefined()
      expect(adjustedRandIndex(planted.labels, out.assignments)).toBeGreaterThanOrEqual(0.9)
      // A body that is not a sample is an I/O failure (exit 2) that says so.
      body = { rows: 'x' }
      const bad = await veneer(['segments', 'discover', '--remote', '--url', url], { VENEER_ADMIN_TOKEN: 'tok' })
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain('not a sample')
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
