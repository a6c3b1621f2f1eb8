/**
 * Veneer's public API: the middleware for your own Hono app, and the pure pieces (schema,
 * compiler, decide) that the CLI, `explain` and tests share.
 */
export { createApp, veneerEndpoints, type AppOptions } from './app'
export { buildContext, contextualContext } from './context/build'
export type * from './context/types'
export { decide, matchSegments } from './decide/decide'
export type * from './decide/types'
export type { Env } from './env'
export { mintProfileToken, verifyProfileToken, type MintProfileOptions } from './identity/profile-token'
export { personalize, type PersonalizeOptions } from './middleware/personalize'
export { compileRuleset, compileRulesetText, CONTROL, type CompiledRuleset } from './rules/compile'
export type { RulesetIssue } from './rules/errors'
export { RulesetDocument, type RulesetDoc, type RulesetInput } from './rules/schema'
export { RULESET_KEY } from './rules/store'
