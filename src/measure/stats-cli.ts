/**
 * `npx veneer stats [file]` (SPEC 12.1): the results code on plain counts, for analysts and
 * tests. Pure: text in, text out; the CLI wrapper (src/cli/stats-command.mjs) does the I/O.
 *
 * Input: `[{ "id", "control", "weights": { arm: weight }, "arms": { arm: [[visitors,
 * conversions], …one pair per day…] } }]` (new visitors and conversions of each day).
 * Output: `[{ "id", "days": [{ "arms": { arm: { visitors, conversions, rate, lift, ci95, cs95,
 * pValue } }, "srm": { pValue, mismatch } }] }]`, cumulative per day; control's lift, ci95, cs95
 * and pValue are null.
 */
import { z } from 'zod'
import { type ArmResult, type ArmTotals, compareGoal, emptyArm, emptyGoal, sampleRatio } from './analysis'
import { DEFAULT_TUNING } from './sequential'

const Count = z.number().int().min(0).max(1e12)
const Experiment = z
  .strictObject({
    id: z.string().min(1).max(200),
    control: z.string().min(1).max(200),
    weights: z.record(z.string().min(1).max(200), z.number().min(0).max(1e9)).optional(),
    arms: z.record(z.string().min(1).max(200), z.array(z.tuple([Count, Count])).max(10_000)),
  })
  .superRefine((e, ctx) => {
    if (!Object.hasOwn(e.arms, e.control)) ctx.addIssue({ code: 'custom', message: `control arm "${e.control}" is not in arms` })
    const lengths = new Set(Object.values(e.arms).map((d) => d.length))
    if (lengths.size > 1) ctx.addIssue({ code: 'custom', message: 'every arm needs the same number of days' })
    for (const [arm, days] of Object.entries(e.arms))
      days.forEach(([n, x], i) => {
        if (x > n) ctx.addIssue({ code: 'custom', message: `${arm} day ${i + 1}: more conversions than visitors` })
      })
  })
const Input = z.array(Experiment).max(10_000)

export interface StatsArmDay {
  visitors: number
  conversions: number
  rate: number | null
  lift: { abs: number; rel: number | null } | null
  ci95: [number, number] | null
  cs95: [number, number] | null
  pValue: number | null
}

export interface StatsOutput {
  id: string
  days: { arms: Record<string, StatsArmDay>; srm: { pValue: number | null; mismatch: boolean } }[]
}

export type StatsCliResult = { ok: true; output: StatsOutput[] } | { ok: false; errors: string[] }

const GOAL = 'conversions'

/** Runs the statistics on parsed input (see the module comment). */
export function statsOf(input: unknown, tuning: number = DEFAULT_TUNING): StatsCliResult {
  const parsed = Input.safeParse(input)
  if (!parsed.success)
    return { ok: false, errors: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) }
  const output = parsed.data.map((e): StatsOutput => {
    const names = [e.control, ...Object.keys(e.arms).filter((a) => a !== e.control)]
    const totals = new Map<string, ArmTotals>(
      names.map((a) => {
        const t = emptyArm()
        t.goals.set(GOAL, emptyGoal())
        return [a, t]
      }),
    )
    const dayCount = e.arms[e.control]?.length ?? 0
    const weights = e.weights ?? {}
    const totalWeight = Object.values(weights).reduce((s, w) => s + w, 0)
    const days: StatsOutput['days'] = []
    for (let d = 0; d < dayCount; d++) {
      for (const a of names) {
        const t = totals.get(a) as ArmTotals
        const [n, x] = e.arms[a]?.[d] ?? [0, 0]
        t.visitors += n
        ;(t.goals.get(GOAL) as { conversions: number }).conversions += x
      }
      const control = totals.get(e.control) as ArmTotals
      const arms: Record<string, StatsArmDay> = {}
      const forSrm: ArmResult[] = []
      for (const a of names) {
        const t = totals.get(a) as ArmTotals
        const g = compareGoal(GOAL, control, t, a === e.control, tuning)
        arms[a] = {
          visitors: t.visitors,
          conversions: g.conversions,
          rate: g.rate,
          lift: g.lift,
          ci95: g.ci95,
          cs95: g.cs95,
          pValue: g.pValue,
        }
        const w = weights[a]
        forSrm.push({
          variant: a,
          visitors: t.visitors,
          expectedShare: w === undefined || !(totalWeight > 0) ? null : w / totalWeight,
          goals: [],
        })
      }
      const srm = totalWeight > 0 ? sampleRatio(forSrm) : null
      days.push({ arms, srm: { pValue: srm?.pValue ?? null, mismatch: srm?.mismatch ?? false } })
    }
    return { id: e.id, days }
  })
  return { ok: true, output }
}

/** The CLI's whole job on text: JSON in, pretty JSON out (or the errors). */
export function runStats(
  text: string,
  tuning: number = DEFAULT_TUNING,
): { ok: true; text: string } | { ok: false; errors: string[] } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return { ok: false, errors: [`the input is not JSON: ${err instanceof Error ? err.message : String(err)}`] }
  }
  const r = statsOf(json, tuning)
  return r.ok ? { ok: true, text: JSON.stringify(r.output, null, 2) } : r
}
