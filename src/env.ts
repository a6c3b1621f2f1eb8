/** Bindings Veneer reads (SPEC 3). Every one is optional: a missing one disables its feature. */
export interface Env {
  /** Rulesets: key `ruleset` is active, `ruleset:v:<version>` keeps history. */
  RULES?: KVNamespace
  /** Origin base URL; when unset and ASSETS exists, the bundled demo site is the origin. */
  ORIGIN_URL?: string
  ASSETS?: Fetcher
  DB?: D1Database
  EVENTS?: Queue<unknown>
  VISITOR_SECRET?: string
  PROFILE_SECRET?: string
  PROFILE_JWKS?: string
  QA_SECRET?: string
  ADMIN_TOKEN?: string
}
