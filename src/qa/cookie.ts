/**
 * The `veneer_qa` cookie (SPEC 6) for browser sessions. Its value is either the bare QA token,
 * or, when `/__veneer/qa` was given overrides or a simulated context too, a form-encoded
 * `t=<token>&o=<x-veneer-override>&c=<x-veneer-context>` (every character cookie-safe).
 */
export const QA_COOKIE = 'veneer_qa'
/** Bound on the override and context texts kept in the cookie (browsers keep ~4 KB per cookie). */
export const MAX_COOKIE_PART = 1000

export interface QaCookie {
  token: string
  override?: string
  context?: string
}

/** The raw value of one cookie from a `Cookie` header, without decoding; the first one wins. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (header === null) return undefined
  for (const part of header.slice(0, 16_384).split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name)
      return part
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1')
  }
  return undefined
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

/** Secure everywhere but on localhost, where browsers may be on plain http. */
export function isLocalHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '127.0.0.1' || hostname === '[::1]'
}

function attributes(secure: boolean, maxAge: number): string {
  return `Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`
}

/** `Set-Cookie` for the QA session: lives exactly as long as the token does. */
export function setQaCookie(c: QaCookie, maxAgeSeconds: number, secure: boolean): string {
  return `${QA_COOKIE}=${encodeQaCookie(c)}; ${attributes(secure, Math.max(0, Math.floor(maxAgeSeconds)))}`
}

/** `Set-Cookie` that removes the QA session. */
export function clearQaCookie(secure: boolean): string {
  return `${QA_COOKIE}=; ${attributes(secure, 0)}`
}
