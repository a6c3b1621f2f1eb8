/**
 * Veneer's public API: the whole Worker (`veneer()`), the middleware and endpoints for your own
 * Hono app, the queue consumer and scheduled jobs, and the pure pieces (schema, compiler, decide)
 * that the CLI, `explain` and tests share.
 */
export { veneer, type VeneerOptions, type VeneerWorker } from './veneer'
export { createApp, veneerEndpoints, type AppOptions, type OriginHandler } from './app'
export {
  QUEUE_CONSUMERS,
  queueDispatcher,
  SCHEDULED_JOBS,
  scheduledRunner,
  veneerQueue,
  veneerScheduled,
  type QueueBatch,
  type QueueConsumer,
  type ScheduledJob,
} from './jobs'
export { consumeAggregateBatch } from './measure/aggregate'
export { checkGuardrails } from './measure/guardrails'
export { runRetention } from './measure/retention'
export { scheduledRecsBuild } from './recs/build'
export { runBanditUpdates } from './bandit/update'
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
