/** One problem in a ruleset document, with the JSON path where it is (`placements.0.selector`). */
export interface RulesetIssue {
  path: string
  message: string
}

export function joinPath(base: string, ...parts: (string | number)[]): string {
  return [base, ...parts.map(String)].filter((p) => p !== '').join('.')
}

/** A stable-coded error for the few places that must throw (STYLE principle 5). */
export class RulesetError extends Error {
  override readonly name = 'RulesetError'
  constructor(
    readonly code: 'invalid_json' | 'invalid_ruleset' | 'too_large',
    readonly issues: RulesetIssue[],
  ) {
    super(`${code}: ${issues.length} problem(s)${issues[0] ? `, first at ${issues[0].path || '(root)'}: ${issues[0].message}` : ''}`)
  }
}
