/** One problem in a ruleset document, with the JSON path where it is (`placements.0.selector`). */
export interface RulesetIssue {
  path: string
  message: string
}

export function joinPath(base: string, ...parts: (string | number)[]): string {
  return [base, ...parts.map(String)].filter((p) => p !== '').join('.')
}
