import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Body limits (SPEC 7): a ruleset may be 1 MB; every other admin body is small. */
export const MAX_RULESET_BYTES = 1024 * 1024
export const MAX_SMALL_BODY_BYTES = 64 * 1024

/** The one error shape of the admin API: `{ error, details }` with a proper status. */
export function apiError(c: Context, status: ContentfulStatusCode, error: string, details: unknown): Response {
  return c.json({ error, details }, status, { 'cache-control': 'no-store' })
}

export type JsonBody = { ok: true; value: unknown; text: string } | { ok: false; response: Response }

/** Reads and parses a JSON body; a parse error is a 400 `invalid_json` with the parser's message. */
export async function readJson(c: Context): Promise<JsonBody> {
  const text = await c.req.text()
  try {
    return { ok: true, value: JSON.parse(text), text }
  } catch (err) {
    return {
      ok: false,
      response: apiError(c, 400, 'invalid_json', [
        { path: '', message: `not valid JSON: ${err instanceof Error ? err.message : 'parse error'}` },
      ]),
    }
  }
}
