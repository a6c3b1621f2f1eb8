import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { experimentHooks } from '../../src/experiments/hooks'
import { AT, compile, context, decideFor, experimentRuleset, state, variantOf, visitorIds } from './helpers'

const N = 10_000
const ids = visitorIds(N)

function shares(ruleset: ReturnType<typeof compile>, path = '/'): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>()
  for (const id of ids) {
    const v = variantOf(decideFor(ruleset, state(id), path))
    counts.set(v, (counts.get(v) ?? 0) + 1)
  }
  return new Map([...counts].map(([k, c]) => [k, c / N]))
}

describe('split accuracy over 10,000 simulated visitors', () => {
  it('50/50 lands within 48–52% each', () => {
    const s = shares(experimentRuleset({ id: 'e50', split: { control: 50, b: 50 } }))
    expect(s.get('control')).toBeGreaterThanOrEqual(0.48)
    expect(s.get('control')).toBeLessThanOrEqual(0.52)
    expect(s.get('b')).toBeGreaterThanOrEqual(0.48)
    expect(s.get('b')).toBeLessThanOrEqual(0.52)
  })

  it('90/10 lands within ±1.5 points', () => {
    const s = shares(experimentRuleset({ id: 'e90', split: { control: 90, b: 10 } }))
    expect(Math.abs((s.get('control') ?? 0) - 0.9)).toBeLessThanOrEqual(0.015)
    expect(Math.abs((s.get('b') ?? 0) - 0.1)).toBeLessThanOrEqual(0.015)
  })

  it('three arms 20/30/50 within ±1.5 points', () => {
    const s = shares(experimentRuleset({ id: 'e3', split: { control: 20, b: 30, c: 50 } }, ['b', 'c']))
    expect(Math.abs((s.get('control') ?? 0) - 0.2)).toBeLessThanOrEqual(0.015)
    expect(Math.abs((s.get('b') ?? 0) - 0.3)).toBeLessThanOrEqual(0.015)
    expect(Math.abs((s.get('c') ?? 0) - 0.5)).toBeLessThanOrEqual(0.015)
  })
})

describe('determinism and stickiness', () => {
  const rs = experimentRuleset({ id: 'copy', split: { control: 50, b: 50 } }, ['b', 'c'])

  it('the same visitor gets the same variant on every request', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), fc.integer({ min: 0, max: 23 }), (id, hour) => {
        const first = decideFor(rs, state(id))
        const later = decideFor(rs, state(id), '/', new Date(Date.UTC(2026, 11, 3, hour)))
        expect(variantOf(later)).toBe(variantOf(first))
        expect(first.placements[0]?.reason).toMatchObject({ kind: 'experiment', experiment: 'copy', sticky: false })
      }),
    )
  })

  it('keeps a sticky assignment after the weights change, and says so', () => {
    const before = experimentRuleset({ id: 'copy', split: { control: 50, b: 50 } }, ['b', 'c'])
    const after = experimentRuleset({ id: 'copy', split: { control: 5, b: 95 } }, ['b', 'c'])
    let moved = 0
    for (const id of ids.slice(0, 2000)) {
      const d1 = decideFor(before, state(id))
      const v1 = variantOf(d1) as string
      // What the identity layer persists: experiment decisions of the page.
      const assignments = Object.fromEntries(
        d1.placements.filter((p) => p.reason.kind === 'experiment').map((p) => [p.experiment as string, p.variant]),
      )
      const d2 = decideFor(after, state(id, assignments))
      expect(variantOf(d2)).toBe(v1)
      expect(d2.placements[0]?.reason).toMatchObject({ kind: 'experiment', sticky: true })
      if (variantOf(decideFor(after, state(id))) !== v1) moved++
    }
    expect(moved).toBeGreaterThan(600) // without stickiness ~45% of control would have moved
  })

  it('honors a sticky arm whose weight dropped to 0 (closed to newcomers only)', () => {
    const closed = experimentRuleset({ id: 'copy', split: { control: 100, b: 0 } }, ['b'])
    expect(variantOf(decideFor(closed, state('someone', { copy: 'b' })))).toBe('b')
    expect(variantOf(decideFor(closed, state('someone')))).toBe('control')
  })

  it('re-buckets freshly when the assigned variant was removed from the ruleset', () => {
    const now = experimentRuleset({ id: 'copy', split: { control: 50, c: 50 } }, ['c'])
    const seen = new Set<string>()
    for (const id of ids.slice(0, 200)) {
      const d = decideFor(now, state(id, { copy: 'b' }))
      const v = variantOf(d) as string
      expect(['control', 'c']).toContain(v)
      expect(d.placements[0]?.reason).toMatchObject({ kind: 'experiment', sticky: false })
      expect(v).toBe(variantOf(decideFor(now, state(id))))
      seen.add(v)
    }
    expect(seen).toEqual(new Set(['control', 'c']))
  })

  it('ignores a sticky assignment for another experiment or a garbage arm', () => {
    const d = decideFor(rs, state('v-0001', { other: 'b', copy: '__proto__' }))
    expect(d.placements[0]?.reason).toMatchObject({ kind: 'experiment', sticky: false })
  })
})

describe('consent', () => {
  const rs = experimentRuleset({ id: 'copy', split: { control: 0, b: 100 } })

  it('never buckets a visitor without personalization consent: control, experiment-skipped', () => {
    const d = decideFor(rs, state('v-0001', { copy: 'b' }, false))
    expect(d.placements[0]).toMatchObject({
      variant: 'control',
      reason: { kind: 'experiment-skipped', experiment: 'copy', why: 'no personalization consent' },
    })
  })

  it('never buckets a consenting visitor without an id', () => {
    const d = decideFor(rs, state(undefined))
    expect(d.placements[0]).toMatchObject({ variant: 'control', reason: { kind: 'experiment-skipped', why: 'no visitor id' } })
  })

  it('holds out nobody without consent even at 100%', () => {
    const s = state('v-0001', undefined, false)
    const ruleset = experimentRuleset({ id: 'copy', split: { b: 1 } }, ['b'], { settings: { holdoutPercent: 100 } })
    expect(experimentHooks(ruleset, context(s), s, AT).holdout).not.toBe(true)
    expect(decideFor(ruleset, s).holdout).toBe(false)
  })
})

/** Chi-square statistic of a 2×2 contingency table (1 degree of freedom). */
function chiSquare2x2(t: [[number, number], [number, number]]): number {
  const [[a, b], [c, d]] = t
  const n = a + b + c + d
  const rows = [a + b, c + d],
    cols = [a + c, b + d]
  let chi = 0
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 2; j++) {
      const expected = ((rows[i] as number) * (cols[j] as number)) / n
      chi += (((t[i] as number[])[j] as number) - expected) ** 2 / expected
    }
  return chi
}

describe('independence of experiments', () => {
  it("two experiments' assignments are independent (chi-square, p > 0.001)", () => {
    const rs = compile({
      placements: [
        {
          id: 'p1',
          paths: ['/*'],
          selector: 'h1',
          variants: [{ id: 'b', ops: [] }],
          rules: [{ experiment: { id: 'first', split: { control: 50, b: 50 } } }],
        },
        {
          id: 'p2',
          paths: ['/*'],
          selector: 'h2',
          variants: [{ id: 'b', ops: [] }],
          rules: [{ experiment: { id: 'second', split: { control: 50, b: 50 } } }],
        },
      ],
    })
    const table: [[number, number], [number, number]] = [
      [0, 0],
      [0, 0],
    ]
    for (const id of ids) {
      const d = decideFor(rs, state(id))
      const i = variantOf(d, 'p1') === 'b' ? 1 : 0
      const j = variantOf(d, 'p2') === 'b' ? 1 : 0
      ;(table[i] as number[])[j]! += 1
    }
    // 10.828 is the chi-square quantile for p = 0.001 at 1 degree of freedom.
    expect(chiSquare2x2(table)).toBeLessThan(10.828)
    // And the test has teeth: a perfectly correlated table fails it.
    expect(
      chiSquare2x2([
        [5000, 0],
        [0, 5000],
      ]),
    ).toBeGreaterThan(10.828)
  })

  it('traffic entry is independent of the arm (the entered visitors still split 50/50)', () => {
    const rs = experimentRuleset({ id: 't', split: { control: 50, b: 50 }, traffic: 40 })
    const s = shares(rs)
    const entered = (s.get('control') ?? 0) + (s.get('b') ?? 0)
    // Non-entered visitors fall through to the default, which is control too: count via reasons.
    let inExp = 0,
      b = 0
    for (const id of ids) {
      const p = decideFor(rs, state(id)).placements[0]
      if (p?.reason.kind === 'experiment') {
        inExp++
        if (p.variant === 'b') b++
      }
    }
    expect(entered).toBeCloseTo(1, 5)
    expect(Math.abs(inExp / N - 0.4)).toBeLessThanOrEqual(0.015)
    expect(Math.abs(b / inExp - 0.5)).toBeLessThanOrEqual(0.025)
  })
})
