import { keyringFor } from '../identity/keys'

/**
 * CSRF protection for the preference center's form posts, without a cookie (the page must work
 * before any consent): (1) the browser must say the post is same-origin (`Sec-Fetch-Site`, or
 * `Origin` where that header is not sent; neither is refused), and (2) the form carries a token
 * signed with the first `VISITOR_SECRET` key over its issue time, valid {@link TOKEN_TTL_SECONDS}.
 * (1) is `isSameOrigin` of src/http/origin.ts.
 * (1) is what stops a cross-site post; (2) refuses stale or hand-made forms.
 */
export const TOKEN_TTL_SECONDS = 2 * 3600
const LABEL = 'veneer-preferences:'

function b64url(bytes: ArrayBuffer): string {
  let bin = ''
  for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** A form token for now, or '' when no `VISITOR_SECRET` is configured. */
export async function formToken(secret: string | undefined, nowSec: number): Promise<string> {
  const ring = await keyringFor(secret)?.catch(() => undefined)
  const key = ring?.keys.get(ring.signingKid)
  if (ring === undefined || key === undefined) return ''
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(LABEL + nowSec))
  return `${nowSec}.${ring.signingKid}.${b64url(mac)}`
}

/** Checks a form token (any listed key, not older than the TTL); without a secret only '' passes. */
export async function checkFormToken(secret: string | undefined, token: unknown, nowSec: number): Promise<boolean> {
  const ring = await keyringFor(secret)?.catch(() => undefined)
  if (ring === undefined) return token === '' || token === undefined
  if (typeof token !== 'string' || token.length > 200) return false
  const [ts, kid, mac] = token.split('.')
  const issued = Number(ts)
  if (!Number.isInteger(issued) || nowSec - issued > TOKEN_TTL_SECONDS || issued - nowSec > 60) return false
  const key = kid === undefined ? undefined : ring.keys.get(kid)
  if (key === undefined || mac === undefined || !/^[A-Za-z0-9_-]{43}$/.test(mac)) return false
  const raw = Uint8Array.from(atob(mac.replace(/-/g, '+').replace(/_/g, '/') + '='), (c) => c.charCodeAt(0))
  // crypto.subtle.verify compares in constant time.
  return crypto.subtle.verify('HMAC', key, raw, new TextEncoder().encode(LABEL + issued))
}
