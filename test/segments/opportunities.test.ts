import { describe, expect, it } from 'vitest'
import { seededRng } from '../../src/util/random'
import { type ArmCounts, benjaminiHochberg, findOpportunities, type SegmentCounts } from '../../src/segments/opportunities'
import reference from '../fixtures/segments/reference.json'

describe('Benjamini–Hochberg', () => {
  it('matches statsmodels multipletests(method="fdr_bh")', () => {
    for (const r of reference.bh) {
      const got = benjaminiHochberg(r.p)
      r.adjusted.forEach((v, i) => {
        expect(got[i]).toBeCloseTo(v, 12)
      })
    }
  })
})

interface Cell {
  share: number
  rates: Record<string, number>
  segments: string[]
}

/**
 * Simulates visitors with known truth: each visitor falls in one cell (which fixes the segments
 * they match and each arm's true conversion rate), is split 50/50 between arms A and B, and
 * converts with that probability. Returns the counts the stats table would hold.
 */
function simulate(
  cells: Cell[],
  visitors: number,
  seed: number,
): { overall: Record<string, ArmCounts>; segments: SegmentCounts[] } {
  const rand = seededRng(seed)
  const overall: Record<string, ArmCounts> = { A: { visitors: 0, conversions: 0 }, B: { visitors: 0, conversions: 0 } }
  const bySegment = new Map<string, Record<string, ArmCounts>>()
  for (let i = 0; i < visitors; i++) {
    let u = rand()
    let cell = cells[0] as Cell
    for (const c of cells) {
      cell = c
      if (u < c.share) break
      u -= c.share
    }
    const arm = rand() < 0.5 ? 'A' : 'B'
    const converted = rand() < (cell.rates[arm] as number) ? 1 : 0
    const add = (counts: Record<string, ArmCounts>) => {
      const a = counts[arm] as ArmCounts
      a.visitors++
      a.conversions += converted
    }
    add(overall)
    for (const s of cell.segments) {
      let counts = bySegment.get(s)
      if (counts === undefined) {
        counts = { A: { visitors: 0, conversions: 0 }, B: { visitors: 0, conversions: 0 } }
        bySegment.set(s, counts)
      }
      add(counts)
    }
  }
  return { overall, segments: [...bySegment].map(([id, arms]) => ({ id, source: 'existing' as const, arms })) }
}

// B wins overall (0.4·8% + 0.6·13% = 11% against 0.4·12% + 0.6·8% = 9.6%), A wins on mobile;
// "eu" cuts across devices and has no difference of its own beyond the mix (a null segment).
const HETEROGENEOUS: Cell[] = [
  { share: 0.2, rates: { A: 0.12, B: 0.08 }, segments: ['mobile', 'eu'] },
  { share: 0.2, rates: { A: 0.12, B: 0.08 }, segments: ['mobile'] },
  { share: 0.3, rates: { A: 0.08, B: 0.13 }, segments: ['desktop', 'eu'] },
  { share: 0.3, rates: { A: 0.08, B: 0.13 }, segments: ['desktop'] },
]

describe('opportunities: where the winner differs by segment', () => {
  it('lists the planted segment where A beats the overall winner B, and not the others', () => {
    const data = simulate(HETEROGENEOUS, 40_000, 11)
    const report = findOpportunities({ experiment: 'hero', goal: 'purchase', ...data })
    expect(report.winner).toBe('B')
    expect(report.opportunities.map((o) => o.segment)).toEqual(['mobile'])
    const mobile = report.opportunities[0]
    expect(mobile?.arm).toBe('A')
    expect(mobile?.rule).toEqual({ segment: 'mobile', variant: 'A' })
    // Truth: share 0.4 × lift 0.04 × 1000 = 16 extra conversions per 1,000 visitors.
    expect(mobile?.gainPer1000).toBeGreaterThan(10)
    expect(mobile?.gainPer1000).toBeLessThan(22)
    const [lo, hi] = mobile?.gainPer1000Ci95 ?? [0, 0]
    expect(lo).toBeLessThan(16)
    expect(hi).toBeGreaterThan(16)
    const eu = report.segments.find((s) => s.id === 'eu')
    expect(eu?.best).toBe('B')
    const desktop = report.segments.find((s) => s.id === 'desktop')
    expect(desktop?.best).toBe('B')
    expect(desktop?.comparedWith).toBe('A')
    for (const s of report.segments) expect(s.pAdjusted).not.toBeNull()
    console.log(
      `opportunities: winner ${report.winner}; ${report.segments.map((s) => `${s.id} best ${s.best} lift ${s.lift?.toFixed(4)} p ${s.pValue?.toExponential(2)} pBH ${s.pAdjusted?.toExponential(2)}`).join('; ')}; listed ${report.opportunities.map((o) => `${o.segment}→${o.arm} +${o.gainPer1000.toFixed(1)}/1000`).join(', ')}`,
    )
  })

  it('a segment with no difference of its own is listed at most about alpha of the time (300 simulated tests)', () => {
    // "eu": A and B convert alike there; "desktop": B wins; B wins overall.
    const cells: Cell[] = [
      { share: 0.4, rates: { A: 0.1, B: 0.1 }, segments: ['eu'] },
      { share: 0.6, rates: { A: 0.08, B: 0.12 }, segments: ['desktop'] },
    ]
    let listed = 0
    for (let run = 0; run < 300; run++) {
      const report = findOpportunities({ experiment: 'x', goal: 'g', ...simulate(cells, 6000, 1000 + run) })
      if (report.opportunities.some((o) => o.segment === 'eu')) listed++
    }
    console.log(`null segment listed in ${listed} of 300 simulated tests`)
    expect(listed / 300).toBeLessThanOrEqual(0.05)
  })

  it('says why a segment has no test, and proposes a `when` rule for a discovered segment', () => {
    const report = findOpportunities({
      experiment: 'x',
      goal: 'g',
      overall: { A: { visitors: 10_000, conversions: 900 }, B: { visitors: 10_000, conversions: 1100 } },
      segments: [
        { id: 'tiny', source: 'existing', arms: { A: { visitors: 20, conversions: 3 }, B: { visitors: 20, conversions: 1 } } },
        { id: 'empty', source: 'existing', arms: {} },
        {
          id: 'cluster-2',
          source: 'proposed',
          when: { 'behavior.purchases': { $gte: 2 } },
          arms: { A: { visitors: 3000, conversions: 450 }, B: { visitors: 3000, conversions: 300 } },
        },
      ],
    })
    expect(report.segments.find((s) => s.id === 'tiny')?.note).toMatch(/not enough data/)
    expect(report.segments.find((s) => s.id === 'empty')?.note).toMatch(/no exposed visitors/)
    expect(report.opportunities).toHaveLength(1)
    expect(report.opportunities[0]?.rule).toEqual({ when: { 'behavior.purchases': { $gte: 2 } }, variant: 'A' })
  })
})
