import type { Env } from '../env'

/** What a valid QA token allows on this request (SPEC 6). */
export interface QaRequest {
  /** Forced variants by placement id or experiment id. */
  overrides: Map<string, string>
  /** Simulated attributes (`geo.country` → `DE`), applied over the real context. */
  context: Map<string, string>
}

/**
 * SEAM (issue 4, QA overrides): reads `x-veneer-qa` / `veneer_qa` and, when the token is valid,
 * `x-veneer-override` and `x-veneer-context`. Until that layer lands, nobody is QA and the
 * headers are ignored, which is the required behavior without a valid token.
 */
export async function readQaRequest(_request: Request, _env: Env): Promise<QaRequest | undefined> {
  return undefined
}
