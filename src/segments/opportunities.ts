import type { ConditionDoc } from '../rules/schema'
import { enoughData, newcombeInterval, twoProportionZTest } from '../measure/stats'

/**
 * Where a test's winner differs by segment (SPEC 15): per segment, each arm's rate; the arm that
 * does best there; a two-sided two-proportion z-test of that arm against the overall winner in
 * the segment; Benjamini–Hochberg across segments; and, for segments whose best arm beats the
 * overall winner after correction, the expected gain of serving them that arm and a rule for it.
 */

export interface ArmCounts {
  visitors: number
  conversions: number
}

export interface SegmentCounts {
  id: string
  /** `existing`: a ruleset segment, counted at exposure; `proposed`: a discovered one. */
  source: 'existing' | 'proposed'
  /** For a proposed segment, its condition (it has no id in the ruleset yet). */
  when?: ConditionDoc
  /**
   * Where the counts come from: `exposure` (default), the segments matched at exposure in
   * `stats_daily`; `sample`, a proposed condition evaluated on the daily sample
   * (src/segments/proposed.ts), noisier and approximate.
   */
  basis?: Basis
  arms: Record<string, ArmCounts>
  /** With `basis: "sample"`: the sampled visitors exposed to the experiment, the denominator of `share`. */
  sampleTotal?: number
}

export type Basis = 'exposure' | 'sample'

/** The note every sample-based result carries. */
export const SAMPLE_NOTE =
  'estimated on the daily sample, not counted at exposure: noisier, rates understated for visitors sampled before converting (docs/segments.md)'

export interface OpportunityInput {
  experiment: string
  goal: string
  /** All exposed visitors, by arm. */
  overall: Record<string, ArmCounts>
  segments: SegmentCounts[]
  /** False discovery rate for BH (default 0.05). */
  alpha?: number
}

export interface SegmentArm extends ArmCounts {
  rate: number | null
}

export interface SegmentResult {
  id: string
  source: 'existing' | 'proposed'
  basis: Basis
  /** Visitors counted: with `basis: "sample"`, the sampled visitors (n) in the segment. */
  visitors: number
  /** Segment visitors / all exposed visitors (with `basis: "sample"`: / all sampled exposed visitors). */
  share: number
  arms: Record<string, SegmentArm>
  /** The arm with the highest rate in this segment (null with no visitors). */
  best: string | null
  /** The arm the test compares against here: the overall winner, or the runner-up when best is the winner. */
  comparedWith: string | null
  /** best − comparedWith, absolute, with Newcombe's 95% interval. */
  lift: number | null
  ci95: [number, number] | null
  pValue: number | null
  /** Benjamini–Hochberg across the segments that have a p-value. */
  pAdjusted: number | null
  /** Why a figure is missing. */
  note?: string
}

export interface Opportunity {
  segment: string
  source: 'existing' | 'proposed'
  basis: Basis
  /** With `basis: "sample"`: the sampled visitors in the segment the estimate rests on. */
  n?: number
  /** The arm to serve this segment instead of the overall winner. */
  arm: string
  /** Expected extra conversions per 1,000 exposed visitors overall: share × lift × 1000. */
  gainPer1000: number
  /** The same with the lift's 95% interval. */
  gainPer1000Ci95: [number, number]
  /** A rule to put before the experiment's rule in its placement. */
  rule: { segment: string; variant: string } | { when: ConditionDoc; variant: string }
}

export interface OpportunityReport {
  experiment: string
  goal: string
  alpha: number
  winner: string | null
  overall: Record<string, SegmentArm>
  segments: SegmentResult[]
  opportunities: Opportunity[]
}

/**
 * Benjamini–Hochberg adjusted p-values (step-up, monotone, capped at 1), in input order.
 * Controls the false discovery rate for independent or positively dependent tests (PRDS), which
 * overlapping segments of one experiment are expected to be.
 */
export function benjaminiHochberg(p: readonly number[]): number[] {
  const m = p.length
  const order = p.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0])
  const out = new Array<number>(m)
  let running = 1
  for (let r = m - 1; r >= 0; r--) {
    const [v, i] = order[r] as readonly [number, number]
    running = Math.min(running, (v * m) / (r + 1))
    out[i] = running
  }
  return out
}

const rate = (a: ArmCounts | undefined): number | null => (a === undefined || a.visitors <= 0 ? null : a.conversions / a.visitors)

function withRates(arms: Record<string, ArmCounts>): Record<string, SegmentArm> {
  return Object.fromEntries(Object.entries(arms).map(([k, a]) => [k, { ...a, rate: rate(a) }]))
}

/** The arm with the highest rate; ties go to the arm listed first. */
function bestArm(arms: Record<string, ArmCounts>, exclude?: string): string | null {
  let best: string | null = null
  let bestRate = Number.NEGATIVE_INFINITY
  for (const [k, a] of Object.entries(arms)) {
    if (k === exclude) continue
    const r = rate(a)
    if (r !== null && r > bestRate) {
      best = k
      bestRate = r
    }
  }
  return best
}

const sum = (arms: Record<string, ArmCounts>) => Object.values(arms).reduce((s, a) => s + a.visitors, 0)

/** Builds the report; see the module comment. */
export function findOpportunities(input: OpportunityInput): OpportunityReport {
  const alpha = input.alpha ?? 0.05
  const winner = bestArm(input.overall)
  const total = sum(input.overall)
  const results: SegmentResult[] = input.segments.map((s) => {
    const visitors = sum(s.arms)
    const best = bestArm(s.arms)
    const basis = s.basis ?? 'exposure'
    const denominator = basis === 'sample' ? (s.sampleTotal ?? 0) : total
    const base: SegmentResult = {
      id: s.id,
      source: s.source,
      basis,
      visitors,
      share: denominator > 0 ? visitors / denominator : 0,
      arms: withRates(s.arms),
      best,
      comparedWith: null,
      lift: null,
      ci95: null,
      pValue: null,
      pAdjusted: null,
    }
    if (best === null || winner === null) return { ...base, note: 'no exposed visitors in this segment' }
    const other = best === winner ? bestArm(s.arms, winner) : winner
    const a = s.arms[best]
    const b = other === null ? undefined : s.arms[other]
    if (other === null || a === undefined || b === undefined || b.visitors <= 0)
      return { ...base, note: `no visitors on ${other ?? 'another arm'} in this segment` }
    const ci = newcombeInterval(a.conversions, a.visitors, b.conversions, b.visitors)
    const test = twoProportionZTest(a.conversions, a.visitors, b.conversions, b.visitors)
    const out: SegmentResult = {
      ...base,
      comparedWith: other,
      lift: (rate(a) as number) - (rate(b) as number),
      ci95: ci,
      pValue: test?.pValue ?? null,
    }
    if (!enoughData(a.conversions, a.visitors, b.conversions, b.visitors))
      return { ...out, pValue: null, note: 'not enough data: fewer than 5 expected conversions or non-conversions in an arm' }
    return basis === 'sample' ? { ...out, note: SAMPLE_NOTE } : out
  })
  const tested = results.flatMap((r, i) => (r.pValue === null ? [] : [i]))
  const adjusted = benjaminiHochberg(tested.map((i) => results[i]?.pValue as number))
  tested.forEach((i, j) => {
    const r = results[i] as SegmentResult
    r.pAdjusted = adjusted[j] as number
  })
  const opportunities: Opportunity[] = []
  for (const r of results) {
    if (r.best === null || r.best === winner || r.pAdjusted === null || r.pAdjusted >= alpha) continue
    if (r.lift === null || r.ci95 === null || r.lift <= 0) continue
    const seg = input.segments.find((s) => s.id === r.id)
    const rule =
      r.source === 'proposed' && seg?.when !== undefined
        ? { when: seg.when, variant: r.best }
        : { segment: r.id, variant: r.best }
    opportunities.push({
      segment: r.id,
      source: r.source,
      basis: r.basis,
      ...(r.basis === 'sample' ? { n: r.visitors } : {}),
      arm: r.best,
      gainPer1000: r.share * r.lift * 1000,
      gainPer1000Ci95: [r.share * r.ci95[0] * 1000, r.share * r.ci95[1] * 1000],
      rule,
    })
  }
  opportunities.sort((x, y) => y.gainPer1000 - x.gainPer1000)
  return {
    experiment: input.experiment,
    goal: input.goal,
    alpha,
    winner,
    overall: withRates(input.overall),
    segments: results,
    opportunities,
  }
}
