/**
 * The `veneer_qa` cookie (SPEC 6) for browser sessions. Its value is either the bare QA token,
 * or, when `/__veneer/qa` was given overrides or a simulated context too, a form-encoded
 * `t=<token>&o=<x-veneer-override>&c=<x-veneer-context>`, written and read by src/http/cookies.ts.
 */
import { clearCookie, readCookie, setCookie } from '../http/cookies'

export const QA_COOKIE = 'veneer_qa'
/** Bound on the override and context texts kept in the cookie (browsers keep ~4 KB per cookie). */
export const MAX_COOKIE_PART = 1000

export interface QaCookie {
  token: string
  override?: string
  context?: string
}

export function encodeQaCookie(c: QaCookie): string {
  if (c.override === undefined && c.context === undefined) return c.token
  const p = new URLSearchParams({ t: c.token })
  if (c.override !== undefined) p.set('o', c.override)
  if (c.context !== undefined) p.set('c', c.context)
  return p.toString()
}

export function decodeQaCookie(value: string): QaCookie | undefined {
  if (value === '' || value.length > 4096) return undefined
  if (!value.includes('=')) return { token: value }
  const p = new URLSearchParams(value)
  const token = p.get('t')
  if (token === null || token === '') return undefined
  const override = p.get('o')?.slice(0, MAX_COOKIE_PART)
  const context = p.get('c')?.slice(0, MAX_COOKIE_PART)
  return { token, override, context }
}

/** `Set-Cookie` for the QA session (HttpOnly, SameSite=Lax): lives exactly as long as the token does. */
export function setQaCookie(c: QaCookie, maxAgeSeconds: number, requestUrl: string): string {
  return setCookie(QA_COOKIE, encodeQaCookie(c), { maxAgeSeconds, requestUrl })
}

/** `Set-Cookie` that removes the QA session. */
export function clearQaCookie(requestUrl: string): string {
  return clearCookie(QA_COOKIE, { requestUrl })
}

/** The QA session of a `Cookie` header, read like every other cookie (decoded, size-capped). */
export function readQaCookie(header: string | null | undefined): QaCookie | undefined {
  const value = readCookie(header, QA_COOKIE)
  return value === undefined ? undefined : decodeQaCookie(value)
}
