import { z } from 'zod'

/** KV key of a bandit's weights (SPEC 14): `bandit:<experimentId>`. */
export function weightsKey(experimentId: string): string {
  return `bandit:${experimentId}`
}

/** Entries kept in the KV document: the one in force, its predecessors for late isolates, the next. */
export const KEPT_PERIODS = 4

const Period = z.strictObject({
  /** When these weights come into force, ms since the epoch (a multiple of `every` minutes). */
  from: z.number().int().min(0),
  /** Arm → percent of new visitors. */
  weights: z.record(z.string().min(1).max(100), z.number().min(0).max(100)),
  phase: z.enum(['burn-in', 'adaptive']),
})

/**
 * The document at `bandit:<experimentId>`, written by the scheduled handler only:
 * `{ version, experiment, updatedAt, periods: [{ from, weights, phase }] }`, periods in
 * ascending `from`. `version` counts updates. The full history of periods is in D1
 * (`bandit_periods`), which results read; KV keeps the last few for the hot path.
 */
export const WeightsDocument = z.strictObject({
  version: z.number().int().min(1),
  experiment: z.string().min(1).max(100),
  updatedAt: z.number().int().min(0),
  periods: z.array(Period).min(1).max(50),
})

export type WeightsDoc = z.output<typeof WeightsDocument>
export type WeightsPeriod = z.output<typeof Period>

/** Parses a stored document; undefined (and the caller keeps what it had) when it is not one. */
export function parseWeightsDoc(text: string, experimentId: string): WeightsDoc | undefined {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return undefined
  }
  const parsed = WeightsDocument.safeParse(raw)
  if (!parsed.success || parsed.data.experiment !== experimentId) return undefined
  const periods = [...parsed.data.periods].sort((a, b) => a.from - b.from)
  return { ...parsed.data, periods }
}

/** The entry in force at `at`: the latest whose `from` is not after it; undefined before the first. */
export function periodInForce(doc: WeightsDoc, at: number): WeightsPeriod | undefined {
  let found: WeightsPeriod | undefined
  for (const p of doc.periods) if (p.from <= at) found = p
  return found
}
