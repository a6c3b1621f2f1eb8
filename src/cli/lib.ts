/**
 * Everything the `veneer` CLI reuses from the Worker, in one module that `scripts/load-ts.mjs`
 * bundles for Node: the same validation, publishing, explain and token code the Worker runs.
 * Web APIs only: the Node side (files, wrangler, HTTP) lives in the `.mjs` files beside it.
 */
export { explain } from '../admin/explain'
export { summarize, validateText } from '../admin/validate'
export {
  activeVersionOf,
  listVersions,
  publishDocument,
  rollbackTo,
  versionKey,
  VERSIONS_KEY,
  type TextStore,
} from '../admin/versions'
export { mintQaToken, parseTtl, verifyQaToken, MAX_QA_TTL_SECONDS } from '../qa/token'
export { compileRulesetText } from '../rules/compile'
export { RULESET_KEY } from '../rules/store'
export { comparableJson, formatDiff, lineDiff } from './diff'
export { mintTestProfileToken } from './profile-token'
export { segmentsCommands } from '../segments/cli'
