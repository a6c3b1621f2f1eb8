/**
 * Cookie names and the Cookie/Set-Cookie plumbing for Veneer's cookies (SPEC 5).
 * Parsing is tolerant: a malformed pair is skipped, never an exception.
 */
export const CONSENT_COOKIE = 'veneer_consent'
export const VISITOR_COOKIE = 'veneer_visitor'
export const PROFILE_COOKIE = 'veneer_profile'
export const QA_COOKIE = 'veneer_qa'

/** Every cookie Veneer reads; "forget me" clears them all. */
export const VENEER_COOKIES = [CONSENT_COOKIE, VISITOR_COOKIE, PROFILE_COOKIE, QA_COOKIE] as const

/** A cookie value longer than this is ignored unread (browsers keep ~4096 bytes per cookie). */
export const MAX_COOKIE_VALUE = 4096

/**
 * The value of cookie `name` in a `Cookie` header, or undefined. The first occurrence wins
 * (browsers send the most specific path first). Values over {@link MAX_COOKIE_VALUE} are ignored.
 */
export function readCookie(header: string | null, name: string): string | undefined {
  if (header === null || header === '') return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() !== name) continue
    let value = part.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    if (value === '' || value.length > MAX_COOKIE_VALUE) return undefined
    try {
      return decodeURIComponent(value)
    } catch {
      return value
    }
  }
  return undefined
}

/** True for http://localhost and http://127.0.0.1, where a `Secure` cookie would not be sent back. */
export function isLocalHttp(url: string): boolean {
  try {
    const u = new URL(url)
    return u.protocol === 'http:' && (u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]')
  } catch {
    return false
  }
}

export interface CookieOptions {
  maxAgeSeconds: number
  /** Default true. `veneer_consent` is readable by the site's CMP, so it is not HttpOnly. */
  httpOnly?: boolean
  /** The request the cookie answers: decides `Secure` (omitted on http://localhost only). */
  requestUrl: string
}

/** `name=value; Max-Age=…; Path=/; HttpOnly; Secure; SameSite=Lax` (value must be cookie-safe). */
export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${value}`, `Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}`, 'Path=/']
  if (o.httpOnly !== false) parts.push('HttpOnly')
  if (!isLocalHttp(o.requestUrl)) parts.push('Secure')
  parts.push('SameSite=Lax')
  return parts.join('; ')
}

/** A `Set-Cookie` that deletes cookie `name` (Max-Age=0, same Path). */
export function clearCookie(name: string, requestUrl: string, httpOnly = true): string {
  return serializeCookie(name, '', { maxAgeSeconds: 0, requestUrl, httpOnly })
}
