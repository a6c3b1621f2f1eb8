import type { CompiledPlacement, CompiledRule } from '../rules/compile'
import type { ExperimentDoc } from '../rules/schema'

/** Why a placement got its variant; carried into `x-veneer-trace` and `explain`. */
export type DecisionReason =
  | { kind: 'rule'; rule: number } // a fixed rule matched
  | { kind: 'experiment'; rule: number; experiment: string; bucket?: number; sticky?: boolean; layer?: string }
  | { kind: 'experiment-skipped'; rule: number; experiment: string; why: string } // matched, but the visitor is not in it
  | { kind: 'default' } // no rule matched
  | { kind: 'override'; by: 'placement' | 'experiment' }
  | { kind: 'holdout' }

export interface PlacementDecision {
  placement: string
  variant: string
  reason: DecisionReason
  /** The experiment this placement's decision belongs to, when one decided it. */
  experiment?: string
}

export interface Decision {
  /** Segments matched, in document order. */
  segments: string[]
  placements: PlacementDecision[]
  holdout: boolean
}

export type ExperimentOutcome =
  | { enter: true; variant: string; bucket?: number; sticky?: boolean; layer?: string }
  | { enter: false; why: string; fallThrough?: boolean }

/**
 * Seams for the layers above fixed rules (SPEC 4.4): QA overrides, the global holdout and
 * experiment assignment. `decide` itself stays pure: every hook is a plain function of data.
 */
export interface DecideHooks {
  /** A forced variant for this placement (QA), by placement id or by its experiment's id. */
  override?: (placement: CompiledPlacement) => { variant: string; by: 'placement' | 'experiment' } | undefined
  /** The visitor is in the global holdout: every placement is `control`. */
  holdout?: boolean
  /** Assigns the visitor to an experiment's arm; without this hook experiments show `control`. */
  assign?: (experiment: ExperimentDoc, placement: CompiledPlacement, rule: CompiledRule) => ExperimentOutcome
  /**
   * Segments are matched only when a placement is on the path (page requests: nothing reads
   * them otherwise). Off for `explain`, the CLI and QA, which show every matched segment.
   */
  segmentsOnlyWithPlacements?: boolean
  /** The placements whose paths match the path, when the caller has matched them already. */
  onPath?: readonly CompiledPlacement[]
}
