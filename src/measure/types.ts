/**
 * Shapes shared by measurement (issue 5), the results endpoint and the dashboard (issue 6).
 * The statistics module produces them; the dashboard only renders them.
 */

/** Why a served variant was chosen (the decision reason's kind), for the served counters. */
export type ServedSource = 'rule' | 'default' | 'experiment' | 'experiment-skipped' | 'holdout'

/** The id of the pseudo-experiment comparing the global holdout with personalized visitors. */
export const HOLDOUT_EXPERIMENT = '__holdout__'

/** One goal's comparison of an arm against control. */
export interface GoalComparison {
  goal: string
  conversions: number
  /** conversions / visitors, or null when the arm has no visitors. */
  rate: number | null
  /** Differences from control; null for control itself or when there is not enough data. */
  absoluteLift: number | null
  relativeLift: number | null
  /** 95% interval of the absolute lift (difference of proportions). */
  ci95: [number, number] | null
  /** Two-sided p-value of the two-proportion z-test. */
  pValue: number | null
  significant: boolean
  /** Why a figure is missing ("not enough data", "no conversions in either arm"). */
  note?: string
}

export interface ArmResult {
  variant: string
  /** Distinct exposed visitors. */
  visitors: number
  /** Share of exposed visitors the split configured, 0–1. */
  expectedShare: number | null
  goals: GoalComparison[]
}

export interface SampleRatioCheck {
  chiSquare: number
  degreesOfFreedom: number
  pValue: number
  /** true when p < 0.001: the observed split does not match the configured one. */
  mismatch: boolean
  /** Set when something besides the p-value decided `mismatch` (visitors outside the split). */
  note?: string
}

export interface ExperimentResults {
  experiment: string
  placement: string | null
  control: string
  arms: ArmResult[]
  srm: SampleRatioCheck | null
  /** Daily distinct exposures per variant, for the dashboard's chart. */
  exposuresByDay: { day: string; variant: string; visitors: number }[]
  notes: string[]
}
