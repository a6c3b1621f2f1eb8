import type { DecisionReason } from './types'

/**
 * Why a placement got its variant, in one short phrase for people (dashboard preview, QA badge).
 * @example reasonText({ kind: 'rule', rule: 1 }) // 'rule 1 matched'
 */
export function reasonText(r: DecisionReason): string {
  switch (r.kind) {
    case 'rule':
      return `rule ${r.rule} matched`
    case 'experiment':
      return `experiment ${r.experiment} (rule ${r.rule})${r.sticky ? ', sticky' : ''}`
    case 'experiment-skipped':
      return `experiment ${r.experiment} skipped: ${r.why}`
    case 'override':
      return `QA override by ${r.by}`
    case 'holdout':
      return 'global holdout'
    default:
      return 'no rule matched'
  }
}
