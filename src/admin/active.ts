import { compileRulesetText, htmlRewriterSelectorCheck, type CompiledRuleset } from '../rules/compile'
import { RULESET_KEY } from '../rules/store'
import type { RulesetIssue } from '../rules/errors'

export type ActiveRuleset =
  | { ok: true; text: string; ruleset: CompiledRuleset }
  | { ok: false; reason: 'none' }
  | { ok: false; reason: 'invalid'; text: string; issues: RulesetIssue[] }

/**
 * The active ruleset straight from KV (not this isolate's cached copy), compiled the way the
 * request path compiles it. Admin answers must show what was last published.
 */
export async function readActiveRuleset(kv: KVNamespace): Promise<ActiveRuleset> {
  const text = await kv.get(RULESET_KEY, 'text')
  if (text === null) return { ok: false, reason: 'none' }
  const result = compileRulesetText(text, { checkSelector: htmlRewriterSelectorCheck })
  return result.ok ? { ok: true, text, ruleset: result.ruleset } : { ok: false, reason: 'invalid', text, issues: result.issues }
}
