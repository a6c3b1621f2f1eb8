import type { Context } from 'hono'
import { jsonError } from '../http/errors'
import { depthMessage, tooDeepAt } from '../rules/depth'

/** Body limits (SPEC 7): a ruleset may be 1 MB; every other admin body is small. */
export const MAX_RULESET_BYTES = 1024 * 1024
export const MAX_SMALL_BODY_BYTES = 64 * 1024

export type JsonBody = { ok: true; value: unknown; text: string } | { ok: false; response: Response }

/**
 * Reads and parses a JSON body: a parse error is a 400 `invalid_json` with the parser's message,
 * a document nested deeper than the ruleset allows a 400 `too_deep` (before anything recurses).
 */
export async function readJson(c: Context): Promise<JsonBody> {
  const text = await c.req.text()
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return {
      ok: false,
      response: jsonError(c, 400, 'invalid_json', [
        { path: '', message: `not valid JSON: ${err instanceof Error ? err.message : 'parse error'}` },
      ]),
    }
  }
  const deep = tooDeepAt(value)
  if (deep !== undefined) return { ok: false, response: jsonError(c, 400, 'too_deep', [{ path: deep, message: depthMessage() }]) }
  return { ok: true, value, text }
}
