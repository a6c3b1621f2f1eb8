import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { root, SECRETS, startWorker, type LocalWorker } from './admin-harness'

// `veneer recs evaluate` and `veneer catalog push`, through the real binary (SPEC 10, 13).
const bin = join(root, 'bin', 'veneer.mjs')
let dir: string
let worker: LocalWorker

function veneer(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    )
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'veneer-recs-cli-'))
  worker = await startWorker(9531, 9532)
})
afterAll(async () => {
  await worker?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('veneer recs evaluate', () => {
  it('prints the SPEC 13 JSON for the demo history, the model ahead of popularity', async () => {
    const r = await veneer(['recs', 'evaluate', join(root, 'demo', 'recs-history.csv'), '--k', '2', '--json'])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.k).toBe(2)
    expect(out.visitors).toBeGreaterThan(200)
    expect(out.model.hitRate).toBeGreaterThan(out.popularity.hitRate)
  })

  it('exits 1 with the line of a bad row, 2 for a missing file', async () => {
    const bad = join(dir, 'bad.csv')
    writeFileSync(bad, 'visitor,item,timestamp\nv,a,1\nv,b,soon\n')
    const r = await veneer(['recs', 'evaluate', bad])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('line 3: timestamp "soon" is not a number or an ISO date')
    expect((await veneer(['recs', 'evaluate', join(dir, 'missing.csv')])).code).toBe(2)
  })
})

describe('veneer catalog push --remote', () => {
  it('publishes a valid catalog through the admin API, refuses an invalid one with its paths', async () => {
    const env = { VENEER_ADMIN_TOKEN: SECRETS.ADMIN_TOKEN, VENEER_URL: worker.url }
    const ok = await veneer(['catalog', 'push', join(root, 'demo', 'catalog.json'), '--remote'], env)
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/published catalog demo-catalog-1 \(6 items\)/)
    const got = await fetch(`${worker.url}/__veneer/api/catalog`, { headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` } })
    expect(((await got.json()) as { items: unknown[] }).items).toHaveLength(6)
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({ items: [{ id: 'x', title: 'X', url: 'javascript:alert(1)' }] }))
    const r = await veneer(['catalog', 'push', bad, '--remote'], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('items.0.url')
  })
})
