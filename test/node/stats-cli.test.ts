import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { root } from './admin-harness'

const bin = join(root, 'bin', 'veneer.mjs')
const dir = mkdtempSync(join(tmpdir(), 'veneer-stats-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function veneer(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { cwd: dir, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    )
    child.stdin?.end(stdin ?? '')
  })
}

// Two days of a 10% → 12% experiment (counts per day), and an unbalanced one.
const INPUT = [
  {
    id: 'hero',
    control: 'control',
    weights: { control: 50, bold: 50 },
    arms: {
      control: [
        [5000, 500],
        [5000, 510],
      ],
      bold: [
        [5000, 600],
        [5000, 590],
      ],
    },
  },
  { id: 'skewed', control: 'a', weights: { a: 50, b: 50 }, arms: { a: [[6000, 600]], b: [[4000, 400]] } },
]

describe('npx veneer stats', () => {
  it('prints per experiment and day the cumulative figures of SPEC 12.1, from a file or stdin', async () => {
    const file = join(dir, 'counts.json')
    writeFileSync(file, JSON.stringify(INPUT))
    const fromFile = await veneer(['stats', file])
    expect(fromFile.code).toBe(0)
    const fromStdin = await veneer(['stats'], JSON.stringify(INPUT))
    expect(fromStdin.stdout).toBe(fromFile.stdout)
    const out = JSON.parse(fromFile.stdout)
    expect(out.map((e: { id: string }) => e.id)).toEqual(['hero', 'skewed'])
    const [day1, day2] = out[0].days
    expect(day1.arms.control).toEqual({
      visitors: 5000,
      conversions: 500,
      rate: 0.1,
      lift: null,
      ci95: null,
      cs95: null,
      pValue: null,
    })
    expect(day2.arms.bold).toMatchObject({ visitors: 10000, conversions: 1190, rate: 0.119 })
    expect(day2.arms.bold.lift.abs).toBeCloseTo(0.018, 12)
    expect(day2.arms.bold.lift.rel).toBeCloseTo(0.018 / 0.101, 12)
    // The sequence is wider than the fixed interval and both contain the estimate.
    const { ci95, cs95 } = day2.arms.bold
    expect(cs95[0]).toBeLessThan(ci95[0])
    expect(cs95[1]).toBeGreaterThan(ci95[1])
    expect(ci95[0]).toBeGreaterThan(0)
    expect(day2.srm.mismatch).toBe(false)
    // 6,000 / 4,000 against 50/50 is a sample-ratio mismatch.
    expect(out[1].days[0].srm.mismatch).toBe(true)
    expect(out[1].days[0].srm.pValue).toBeLessThan(1e-10)
  })

  it('refuses bad input with every problem and exit code 1', async () => {
    const bad = await veneer(['stats'], JSON.stringify([{ id: 'x', control: 'c', arms: { c: [[10, 20]], b: [] } }]))
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/more conversions than visitors/)
    expect(bad.stderr).toMatch(/same number of days/)
    const notJson = await veneer(['stats'], 'nope')
    expect(notJson.code).toBe(1)
    expect(notJson.stderr).toMatch(/not JSON/)
    const help = await veneer(['stats', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: veneer stats [file]')
  })
})
