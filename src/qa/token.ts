import { SignJWT, jwtVerify } from 'jose'

/** QA tokens live at most this long (SPEC 6). */
export const MAX_QA_TTL_SECONDS = 7 * 24 * 3600
const SCOPE = 'qa'
/** Clock skew allowed on `iat`: a token issued further in the future than this is refused. */
export const IAT_LEEWAY_SECONDS = 60
/** A compact JWS: three base64url parts, nothing else (no whitespace, no CR/LF for a header). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const encoder = new TextEncoder()

/** Parses a TTL such as `8h`, `30m`, `2d`, `3600` (seconds) into seconds; undefined if invalid. */
export function parseTtl(ttl: string | number): number | undefined {
  if (typeof ttl === 'number') return Number.isInteger(ttl) && ttl > 0 ? ttl : undefined
  const m = /^(\d+)\s*([smhd]?)$/.exec(ttl.trim())
  if (m === null) return undefined
  const n = Number(m[1])
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd']
  const seconds = n * unit
  return seconds > 0 ? seconds : undefined
}

/**
 * Mints a QA token: HS256 with `QA_SECRET`, `scope: "qa"`, `exp` at most 7 days ahead.
 * @example const token = await mintQaToken(env.QA_SECRET, parseTtl('8h')!)
 */
export async function mintQaToken(secret: string, ttlSeconds: number, subject = 'qa'): Promise<string> {
  if (secret === '') throw new TypeError('QA_SECRET is empty')
  if (!(ttlSeconds > 0 && ttlSeconds <= MAX_QA_TTL_SECONDS))
    throw new RangeError(`ttl must be between 1 second and ${MAX_QA_TTL_SECONDS} seconds (7 days)`)
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ scope: SCOPE })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(encoder.encode(secret))
}

/** What a valid QA token tells: when it expires (seconds since the epoch). */
export interface QaTokenInfo {
  exp: number
}

/**
 * Reads a QA token: HS256 only, `exp` required and at most 7 days after `iat`, `iat` not in the
 * future (so a token can never live more than 7 days from now), scope `qa`.
 * Every failure (forged, expired, wrong scope, unsigned, garbage) is `undefined`, never an exception.
 */
export async function readQaToken(secret: string | undefined, token: string | undefined): Promise<QaTokenInfo | undefined> {
  if (secret === undefined || secret === '' || token === undefined || token.length === 0 || token.length > 2048) return undefined
  if (!COMPACT_JWS.test(token)) return undefined
  try {
    const { payload } = await jwtVerify(token, encoder.encode(secret), { algorithms: ['HS256'], requiredClaims: ['exp', 'iat'] })
    if (payload.scope !== SCOPE) return undefined
    if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number' || payload.exp - payload.iat > MAX_QA_TTL_SECONDS)
      return undefined
    if (payload.iat > Math.floor(Date.now() / 1000) + IAT_LEEWAY_SECONDS) return undefined
    return { exp: payload.exp }
  } catch {
    return undefined // includes the plain TypeError jose throws on key/algorithm confusion
  }
}

/**
 * Verifies a QA token (see `readQaToken`): true only for a valid, unexpired token of scope `qa`.
 */
export async function verifyQaToken(secret: string | undefined, token: string | undefined): Promise<boolean> {
  return (await readQaToken(secret, token)) !== undefined
}
