import { z } from 'zod'

/**
 * What `veneer_visitor` remembers for measurement (SPEC 12): per experiment the visitor was
 * counted in, the arm, the covariate at exposure, the segments matched at exposure and the goals
 * already counted (with the value total so far). This is what lets the edge count each visitor
 * once without visitor rows in the store. Bounded: see the MAX_ constants.
 */
export interface ExposureMemo {
  experiment: string
  arm: string
  /** The pre-exposure covariate x (docs/measurement.md "CUPED"). */
  x: number
  /** Ruleset segments matched at exposure (at most {@link MAX_MEMO_SEGMENTS}). */
  segments: string[]
  /** Goals counted for this experiment: goal id → the visitor's value total so far. */
  goals: [string, number][]
}

/** Experiments remembered per visitor; the oldest is forgotten first. */
export const MAX_MEMOS = 20
/** Segments remembered per exposure: per-segment rows are kept for at most this many. */
export const MAX_MEMO_SEGMENTS = 8
/** Goals remembered per experiment: a visitor's conversions beyond this are not counted. */
export const MAX_MEMO_GOALS = 10

// The holdout pseudo-experiment is `__holdout__`, so a leading `_` is allowed here.
const Key = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/)
const Total = z.number().finite().min(-1e12).max(1e12)

/** The `mx` claim: `[experiment, arm, x, [segment…], [[goal, total]…]]` per memo. */
export const MemoClaim = z
  .array(
    z.tuple([
      Key,
      Key,
      z.number().int().min(0).max(1_000_000),
      z.array(Key).max(MAX_MEMO_SEGMENTS),
      z.array(z.tuple([Key, Total])).max(MAX_MEMO_GOALS),
    ]),
  )
  .max(MAX_MEMOS)

export type MemoClaimValue = z.output<typeof MemoClaim>

export function memosToClaim(memos: readonly ExposureMemo[]): MemoClaimValue {
  return memos.map((m) => [m.experiment, m.arm, m.x, m.segments, m.goals])
}

export function memosFromClaim(claim: MemoClaimValue | undefined): ExposureMemo[] {
  return (claim ?? []).map(([experiment, arm, x, segments, goals]) => ({ experiment, arm, x, segments, goals }))
}
