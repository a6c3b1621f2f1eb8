import type { CompiledPlacement, CompiledRuleset } from '../rules/compile'
import type { ExperimentDoc } from '../rules/schema'

/** An experiment of a layer with the placement whose rule holds it. */
export interface LayerMember {
  experiment: ExperimentDoc
  placement: CompiledPlacement
}

/** Layer id → its experiments, in ascending order of experiment id (the order of the slices). */
export type LayerIndex = ReadonlyMap<string, readonly LayerMember[]>

// Built once per compiled ruleset (one per version per isolate), not per request.
const cache = new WeakMap<CompiledRuleset, LayerIndex>()

/** The layers of a ruleset. An experiment id appears once even if several rules repeat it. */
export function layerIndex(ruleset: CompiledRuleset): LayerIndex {
  let index = cache.get(ruleset)
  if (index !== undefined) return index
  const layers = new Map<string, LayerMember[]>()
  const seen = new Set<string>()
  for (const placement of ruleset.placements) {
    for (const rule of placement.rules) {
      const experiment = rule.experiment
      if (experiment?.layer === undefined || seen.has(experiment.id)) continue
      seen.add(experiment.id)
      const members = layers.get(experiment.layer) ?? []
      members.push({ experiment, placement })
      layers.set(experiment.layer, members)
    }
  }
  for (const members of layers.values())
    members.sort((a, b) => (a.experiment.id < b.experiment.id ? -1 : a.experiment.id > b.experiment.id ? 1 : 0))
  index = layers
  cache.set(ruleset, index)
  return index
}
