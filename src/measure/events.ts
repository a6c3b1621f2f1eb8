import type { Decision } from '../decide/types'
import type { CompiledRuleset } from '../rules/compile'
import { compileGlobs, type PathMatcher } from '../rules/glob'

/** The variants of the holdout pseudo-experiment (docs/measurement.md, "Holdout"). */
export const HOLDOUT_VARIANT = 'holdout'
export const PERSONALIZED_VARIANT = 'personalized'

interface GoalIndex {
  /** Path goals, each with its compiled glob. */
  paths: { id: string; matches: PathMatcher }[]
  /** Event goals by the names that reach them: the goal's `event` and its own id. */
  events: Map<string, string[]>
}

// Compiled once per ruleset version: a new version is a new CompiledRuleset object.
const goalIndexes = new WeakMap<CompiledRuleset, GoalIndex>()

function goalIndex(ruleset: CompiledRuleset): GoalIndex {
  let index = goalIndexes.get(ruleset)
  if (index !== undefined) return index
  index = { paths: [], events: new Map() }
  for (const g of ruleset.goals) {
    if (g.path !== undefined) index.paths.push({ id: g.id, matches: compileGlobs([g.path]) })
    if (g.event !== undefined) {
      for (const name of new Set([g.event, g.id])) {
        const ids = index.events.get(name) ?? []
        ids.push(g.id)
        index.events.set(name, ids)
      }
    }
  }
  goalIndexes.set(ruleset, index)
  return index
}

/** Ids of the path goals reached by serving `path`. */
export function pathGoals(ruleset: CompiledRuleset, path: string): string[] {
  return goalIndex(ruleset)
    .paths.filter((g) => g.matches(path))
    .map((g) => g.id)
}

/**
 * Ids of the event goals a visitor event reaches (SPEC 7 `POST events`): goals whose `event`
 * is the event's `type` or `goal`, or whose id is (the page may send a goal id as its type).
 */
export function eventGoals(ruleset: CompiledRuleset, names: readonly (string | undefined)[]): string[] {
  const index = goalIndex(ruleset).events
  const ids = new Set<string>()
  for (const name of names) if (name !== undefined) for (const id of index.get(name) ?? []) ids.add(id)
  return [...ids]
}

/**
 * Whether a decision must never be recorded: a QA override decided some placement (the
 * pipeline already skips QA requests; this also covers `explain`-style callers).
 */
export function isQaDecision(decision: Decision): boolean {
  return decision.placements.some((p) => p.reason.kind === 'override')
}
