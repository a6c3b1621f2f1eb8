import type { RequestLike } from '../http/request-view'
import type { Env } from '../env'
import { readQaCookie } from './cookie'
import { parseContext, parseOverrides } from './parse'
import { readQaToken } from './token'

/** What a valid QA token allows on this request (SPEC 6). */
export interface QaRequest {
  /** Forced variants by placement id or experiment id. */
  overrides: Map<string, string>
  /** Simulated attributes (`geo.country` → `DE`), applied over the real context. */
  context: Map<string, string>
  /** Entries of the QA headers or cookie that were not understood (shown in the trace). */
  ignored?: string[]
  /** Where the token came from. */
  via?: 'header' | 'cookie'
  /** When the token expires (seconds since the epoch), for the on-page QA badge. */
  expiresAt?: number
}

/** `QA_SECRET` when QA can apply at all: unset or empty, no token is valid and nothing is read. */
export function qaSecret(env: Env): string | undefined {
  return env.QA_SECRET === '' ? undefined : env.QA_SECRET
}

/**
 * Reads `x-veneer-qa` (header) or `veneer_qa` (cookie) and, only when its token is valid,
 * `x-veneer-override` and `x-veneer-context`. Without a valid token the result is undefined
 * and every QA header is ignored. With a valid cookie, the overrides and context stored in it
 * apply first and the headers refine them.
 */
export async function readQaRequest(request: RequestLike, env: Env): Promise<QaRequest | undefined> {
  const secret = qaSecret(env)
  if (secret === undefined) return undefined
  const header = request.headers.get('x-veneer-qa')?.trim()
  let stored: { override?: string; context?: string } = {}
  let via: 'header' | 'cookie' = 'header'
  let info = header === undefined || header === '' ? undefined : await readQaToken(secret, header)
  if (info === undefined) {
    const cookie = readQaCookie(request.headers.get('cookie'))
    info = cookie === undefined ? undefined : await readQaToken(secret, cookie.token)
    if (cookie === undefined || info === undefined) return undefined
    stored = cookie
    via = 'cookie'
  }
  const overrides = [parseOverrides(stored.override), parseOverrides(request.headers.get('x-veneer-override'))]
  const context = [parseContext(stored.context), parseContext(request.headers.get('x-veneer-context'))]
  return {
    overrides: new Map(overrides.flatMap((p) => [...p.entries])),
    context: new Map(context.flatMap((p) => [...p.entries])),
    ignored: [...overrides, ...context].flatMap((p) => p.ignored),
    via,
    expiresAt: info.exp,
  }
}
