import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * Every `error` code a Veneer endpoint answers with, in one place (SPEC 7: `{ error, details }`).
 * Clients branch on these; add a code here before using it.
 */
export type ErrorCode =
  | 'admin_disabled'
  | 'bad_id'
  | 'failed'
  | 'forbidden'
  | 'internal_error'
  | 'invalid_catalog'
  | 'invalid_condition'
  | 'invalid_correction'
  | 'invalid_days'
  | 'invalid_event'
  | 'invalid_experiment_id'
  | 'invalid_goal'
  | 'invalid_json'
  | 'invalid_k'
  | 'invalid_list'
  | 'invalid_name'
  | 'invalid_path'
  | 'invalid_redirect'
  | 'invalid_request'
  | 'invalid_ruleset'
  | 'invalid_segment'
  | 'invalid_token'
  | 'measurement_disabled'
  | 'method_not_allowed'
  | 'missing_token'
  | 'no_catalog'
  | 'no_data'
  | 'no_db'
  | 'no_kv'
  | 'not_found'
  | 'payload_too_large'
  | 'qa_disabled'
  | 'results_unavailable'
  | 'sample_unavailable'
  | 'sample_unusable'
  | 'stats_unavailable'
  | 'too_deep'
  | 'too_large'
  | 'too_long'
  | 'too_many_requests'
  | 'unauthorized'
  | 'unbound'
  | 'unknown_bandit'
  | 'unknown_experiment'

/** The JSON error body of every Veneer endpoint. */
export interface ErrorBody {
  error: ErrorCode
  details: unknown
}

/** `{ error, details }` with `status`, never cached. */
export function jsonError(
  c: Context,
  status: ContentfulStatusCode,
  error: ErrorCode,
  details: unknown,
  headers: Record<string, string> = {},
): Response {
  const body: ErrorBody = { error, details }
  return c.json(body, status, { 'cache-control': 'no-store', ...headers })
}
