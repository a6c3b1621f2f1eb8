import { setCookie } from '../http/cookies'

/**
 * Dashboard sessions: after a login with the admin token, a cookie `veneer_admin` holding
 * `v1.<expiry>.<csrf>.<mac>`, where the MAC is HMAC-SHA256 under a key derived from ADMIN_TOKEN.
 * Rotating ADMIN_TOKEN therefore ends every session. The csrf part is the per-session token the
 * dashboard's forms echo in a hidden field (double submit, bound to the signed cookie).
 */
export const SESSION_COOKIE = 'veneer_admin'
export const SESSION_TTL_SECONDS = 8 * 3600
/** The cookie is only sent to the dashboard, never to the site's pages or the API. */
export const SESSION_PATH = '/__veneer/admin'

const encoder = new TextEncoder()
let cached: { token: string; key: Promise<CryptoKey> } | undefined

function b64url(bytes: ArrayBuffer | Uint8Array): string {
  const arr = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let s = ''
  for (const b of arr) s += String.fromCharCode(b)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromB64url(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return undefined
  try {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4))
    return Uint8Array.from(bin, (c) => c.charCodeAt(0))
  } catch {
    return undefined
  }
}

/** The session MAC key: HMAC(ADMIN_TOKEN, purpose), imported once per token per isolate. */
function sessionKey(adminToken: string): Promise<CryptoKey> {
  if (cached?.token !== adminToken) {
    const key = (async () => {
      const base = await crypto.subtle.importKey('raw', encoder.encode(adminToken), { name: 'HMAC', hash: 'SHA-256' }, false, [
        'sign',
      ])
      const derived = await crypto.subtle.sign('HMAC', base, encoder.encode('veneer admin session v1'))
      return crypto.subtle.importKey('raw', derived, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
    })()
    cached = { token: adminToken, key }
  }
  return cached.key
}

export interface Session {
  csrf: string
  expiresAt: number
}

/** A new signed session value and its CSRF token. */
export async function createSession(adminToken: string, now: number = Date.now()): Promise<{ value: string; session: Session }> {
  const expiresAt = Math.floor(now / 1000) + SESSION_TTL_SECONDS
  const csrf = b64url(crypto.getRandomValues(new Uint8Array(18)))
  const payload = `v1.${expiresAt}.${csrf}`
  const mac = await crypto.subtle.sign('HMAC', await sessionKey(adminToken), encoder.encode(payload))
  return { value: `${payload}.${b64url(mac)}`, session: { csrf, expiresAt } }
}

/** The session a cookie value stands for, or undefined if forged, malformed or expired. */
export async function readSession(
  adminToken: string,
  value: string | undefined,
  now: number = Date.now(),
): Promise<Session | undefined> {
  if (value === undefined || value.length > 200) return undefined
  const parts = value.split('.')
  if (parts.length !== 4 || parts[0] !== 'v1') return undefined
  const [, exp, csrf, macText] = parts as [string, string, string, string]
  const mac = fromB64url(macText)
  if (mac === undefined || !/^\d{1,12}$/.test(exp) || csrf.length < 16) return undefined
  // crypto.subtle.verify compares the MAC in constant time.
  const ok = await crypto.subtle.verify('HMAC', await sessionKey(adminToken), mac, encoder.encode(`v1.${exp}.${csrf}`))
  if (!ok || Number(exp) <= Math.floor(now / 1000)) return undefined
  return { csrf, expiresAt: Number(exp) }
}

/** Set-Cookie for a session: HttpOnly, SameSite=Strict, Secure by the one rule of src/http/cookies.ts. */
export function sessionCookie(value: string, url: URL, maxAge: number = SESSION_TTL_SECONDS): string {
  return setCookie(SESSION_COOKIE, value, { maxAgeSeconds: maxAge, requestUrl: url, sameSite: 'Strict', path: SESSION_PATH })
}

/** Set-Cookie that ends the session. */
export function clearSessionCookie(url: URL): string {
  return sessionCookie('', url, 0)
}
