/**
 * Reading and writing cookies: the one place for both (every Veneer cookie goes through here).
 *
 * The `Secure` rule, exactly one: every cookie is `Secure` unless the request it answers came
 * over plain `http:` to a loopback host (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`), where
 * browsers would not send a `Secure` cookie back. `https://localhost` gets `Secure`.
 */

/** Only this much of a `Cookie` header is looked at. */
export const MAX_COOKIE_HEADER = 16_384
/** A cookie value longer than this is ignored unread (browsers keep ~4096 bytes per cookie). */
export const MAX_COOKIE_VALUE = 4096

/**
 * The value of cookie `name` in a `Cookie` header, percent-decoded, or undefined. The first
 * occurrence wins (browsers send the most specific path first); empty values and values over
 * {@link MAX_COOKIE_VALUE} are ignored; a malformed escape leaves the raw value.
 */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (header === null || header === undefined || header === '') return undefined
  for (const part of header.slice(0, MAX_COOKIE_HEADER).split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
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

/** The names of the cookies in a `Cookie` header (bounded like {@link readCookie}). */
export function cookieNames(header: string | null | undefined): string[] {
  if (header === null || header === undefined || header === '') return []
  const names: string[] = []
  for (const part of header.slice(0, MAX_COOKIE_HEADER).split(';')) {
    const eq = part.indexOf('=')
    const name = (eq < 0 ? part : part.slice(0, eq)).trim()
    if (name !== '') names.push(name)
  }
  return names
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** True for plain-http requests to a loopback host: the only place cookies go without `Secure`. */
export function isPlainHttpLocalhost(url: string | URL): boolean {
  if (typeof url !== 'string') return url.protocol === 'http:' && isLoopbackHost(url.hostname)
  if (!url.startsWith('http://')) return false // https: nothing to look at
  // A request's URL is already in its serialised form (lower-case host, no userinfo for
  // loopback cases that matter), so the host is read off the text: every page view asks.
  const end = url.slice(7).search(/[/?#]/)
  const host = end < 0 ? url.slice(7) : url.slice(7, 7 + end)
  if (host.includes('@')) return isPlainHttpLocalhost(new URL(url))
  const colon = host.startsWith('[') ? host.indexOf(']:') + 1 : host.lastIndexOf(':')
  return isLoopbackHost((colon > 0 ? host.slice(0, colon) : host).toLowerCase())
}

function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname) || hostname.endsWith('.localhost')
}

export interface SetCookieOptions {
  maxAgeSeconds: number
  /** The request the cookie answers: decides `Secure` (see the rule above). */
  requestUrl: string | URL
  /** Default true. `veneer_consent` is readable by the site's CMP, so it is not HttpOnly. */
  httpOnly?: boolean
  /** Default `Lax`; the dashboard session is `Strict`. */
  sameSite?: 'Lax' | 'Strict'
  /** Default `/`. */
  path?: string
}

/**
 * Percent-encodes what may not stand in a cookie value (controls, space, `"`, `;`, `\`, non-ASCII)
 * and `%` itself, so {@link readCookie}'s decoding gives back exactly `value`. Other characters
 * (`=`, `&`, `,`, `.`) stay readable.
 */
function encodeValue(value: string): string {
  // Tokens (base64url and dots) need nothing: tested first, a search costs less than a replace.
  if (!UNSAFE_IN_VALUE.test(value)) return value
  return value.replace(UNSAFE_IN_VALUES, (c) => encodeURIComponent(c))
}

/** What a cookie value may not hold as it is: outside `!`…`~`, and `"`, `%`, `;`, `\`. */
const UNSAFE_IN_VALUE = /[^\x21\x23\x24\x26-\x3a\x3c-\x5b\x5d-\x7e]/
const UNSAFE_IN_VALUES = new RegExp(UNSAFE_IN_VALUE.source, 'gu') // a surrogate pair as one character

/** `name=value; Max-Age=…; Path=/; HttpOnly; Secure; SameSite=Lax`. */
export function setCookie(name: string, value: string, o: SetCookieOptions): string {
  const httpOnly = o.httpOnly !== false ? '; HttpOnly' : ''
  const secure = isPlainHttpLocalhost(o.requestUrl) ? '' : '; Secure'
  return `${name}=${encodeValue(value)}; Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}; Path=${o.path ?? '/'}${httpOnly}${secure}; SameSite=${o.sameSite ?? 'Lax'}`
}

/** A `Set-Cookie` that deletes cookie `name` (empty, Max-Age=0, same attributes). */
export function clearCookie(name: string, o: Omit<SetCookieOptions, 'maxAgeSeconds'>): string {
  return setCookie(name, '', { ...o, maxAgeSeconds: 0 })
}
