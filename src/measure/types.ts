/**
 * Shapes shared by measurement, the results endpoint and the dashboard. The statistics
 * (src/measure/analysis.ts) produce them; the dashboard only renders them.
 */
import type { BanditResults } from '../bandit/results'
import type { ArmResult, Power, SampleRatioCheck, Verdict } from './analysis'
import type { Correction } from './multiple'

export type { ArmResult, GoalResult, Power, SampleRatioCheck, Verdict } from './analysis'

/** Why a served variant was chosen (the decision reason's kind), for the served counters. */
export type ServedSource = 'rule' | 'default' | 'experiment' | 'experiment-skipped' | 'holdout'

/** The id of the pseudo-experiment comparing the global holdout with personalized visitors. */
export const HOLDOUT_EXPERIMENT = '__holdout__'

/** One day of the primary goal's history, cumulative to the end of that day, per arm. */
export interface HistoryPoint {
  day: string
  arm: string
  visitors: number
  lift: number | null
  ci95: [number, number] | null
  cs95: [number, number] | null
}

export interface ExperimentResults {
  experiment: string
  placement: string | null
  control: string
  /** The segment these figures are for: '*' = all visitors. */
  segment: string
  arms: ArmResult[]
  srm: SampleRatioCheck | null
  power: Power
  /** The goal decisions are made on: the first goal that is not a guardrail. */
  primaryGoal: string | null
  /** How p-values were adjusted across goals × arms. */
  correction: Correction
  decision: Verdict
  /** One line, in words a product manager reads. */
  reason: string
  /** Bandits (SPEC 14): period-weighted estimates and the check against the weights in force. */
  bandit?: BanditResults
  /** Set when the experiment was stopped (guardrail or by hand): every visitor sees control. */
  stopped?: { at: string; reason: string }
  /** The confidence sequence over time (primary goal). */
  history: HistoryPoint[]
  /** Daily new visitors per arm, for the exposure chart. */
  exposuresByDay: { day: string; variant: string; visitors: number }[]
  /** The tuning parameter N* of the confidence sequence. */
  tuning: number
  notes: string[]
}
