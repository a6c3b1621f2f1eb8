import type { MiddlewareHandler } from 'hono'
import type { Env } from '../env'
import { jsonError } from '../http/errors'

const encoder = new TextEncoder()

/**
 * Compares two secrets in constant time: both are hashed first, so neither the length nor the
 * position of the first difference shows in the timing.
 */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ])
  return crypto.subtle.timingSafeEqual(ha, hb)
}

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` for the admin API (SPEC 7). 401 without or with a wrong
 * token; 503 for every admin route when `ADMIN_TOKEN` is not configured.
 */
export function requireAdmin(): MiddlewareHandler<{ Bindings: Env }> {
  return async function veneerRequireAdmin(c, next) {
    const expected = c.env.ADMIN_TOKEN
    if (expected === undefined || expected === '') {
      return jsonError(c, 503, 'admin_disabled', 'ADMIN_TOKEN is not set, so the admin API is off')
    }
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(.+)$/i.exec(header)
    if (match === null || !(await timingSafeEqualStrings(match[1]?.trim() ?? '', expected))) {
      return jsonError(c, 401, 'unauthorized', 'a valid admin bearer token is required', {
        'www-authenticate': 'Bearer realm="veneer-admin"',
      })
    }
    await next()
  }
}
