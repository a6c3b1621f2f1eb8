import {
  SignJWT,
  createLocalJWKSet,
  decodeProtectedHeader,
  importJWK,
  jwtVerify,
  type JWK,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose'
import type { Env } from '../env'
import type { SettingsDoc } from '../rules/schema'
import { logWarn } from '../util/log'

/**
 * `veneer_profile` (SPEC 5): a token the site's own backend issues with first-party claims
 * (`tier`, `interests`, …). Veneer only reads it: HS256 with `PROFILE_SECRET`, or ES256 /
 * RS256 / EdDSA with a key picked by `kid` from `PROFILE_JWKS`. `exp` is required; `iss` and
 * `aud` are checked when `settings.profile` names them. Its claims become `profile.*`.
 */
export const MAX_PROFILE_TOKEN = 4096
/** At most this many claims reach the context. */
export const MAX_PROFILE_CLAIMS = 50
export const ASYMMETRIC_ALGS = ['ES256', 'RS256', 'EdDSA'] as const
/** Registered claims checked here; they do not become `profile.*` attributes. */
const REGISTERED = new Set(['exp', 'nbf', 'iat', 'jti', 'iss', 'aud'])
const CLOCK_TOLERANCE_SECONDS = 30

// Keys are built once per isolate and secret value, not per request (PLATFORM-NOTES, jose).
let hmacCache: { secret: string; key: Uint8Array } | undefined
let jwksCache: { text: string; getKey: JWTVerifyGetKey | undefined } | undefined

function hmacKey(secret: string): Uint8Array {
  if (hmacCache?.secret !== secret) hmacCache = { secret, key: new TextEncoder().encode(secret) }
  return hmacCache.key
}

function jwksKeys(text: string): JWTVerifyGetKey | undefined {
  if (jwksCache?.text !== text) {
    let getKey: JWTVerifyGetKey | undefined
    try {
      const parsed: unknown = JSON.parse(text)
      getKey = createLocalJWKSet(parsed as { keys: JWK[] }) // jose validates the shape and throws on a bad set
    } catch (err) {
      logWarn('profile_jwks_invalid', { kind: err instanceof Error ? err.name : typeof err, length: text.length })
    }
    jwksCache = { text, getKey }
  }
  return jwksCache.getKey
}

/** Claims safe to put in the context: JSON values minus registered claims, bounded in number. */
function profileClaims(payload: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  let n = 0
  for (const [k, v] of Object.entries(payload)) {
    if (REGISTERED.has(k) || k === '__proto__') continue
    if (++n > MAX_PROFILE_CLAIMS) break
    out[k] = v
  }
  return out
}

/**
 * Verifies a `veneer_profile` token and returns its claims, or `undefined` for every bad token
 * (bad signature, `alg: none`, HS/RS confusion, unknown kid, expired, not yet valid, wrong
 * `iss`/`aud`, garbage, oversized) and when no key is configured. Never throws.
 */
export async function verifyProfileToken(
  env: Env,
  settings: SettingsDoc,
  token: string,
  now: Date = new Date(),
): Promise<Record<string, unknown> | undefined> {
  if (token.length === 0 || token.length > MAX_PROFILE_TOKEN) return undefined
  try {
    const header = decodeProtectedHeader(token)
    const options: JWTVerifyOptions = { requiredClaims: ['exp'], clockTolerance: CLOCK_TOLERANCE_SECONDS, currentDate: now }
    if (settings.profile.issuer !== undefined) options.issuer = settings.profile.issuer
    if (settings.profile.audience !== undefined) options.audience = settings.profile.audience
    // The algorithm family is chosen by which key is configured, and pinned: an HS256 token is
    // only ever checked against PROFILE_SECRET, an asymmetric one only against PROFILE_JWKS.
    if (header.alg === 'HS256') {
      if (env.PROFILE_SECRET === undefined || env.PROFILE_SECRET === '') return undefined
      const { payload } = await jwtVerify(token, hmacKey(env.PROFILE_SECRET), { ...options, algorithms: ['HS256'] })
      return profileClaims(payload)
    }
    if (env.PROFILE_JWKS === undefined || env.PROFILE_JWKS === '') return undefined
    const getKey = jwksKeys(env.PROFILE_JWKS)
    if (getKey === undefined) return undefined
    const { payload } = await jwtVerify(token, getKey, { ...options, algorithms: [...ASYMMETRIC_ALGS] })
    return profileClaims(payload)
  } catch {
    return undefined // jose errors, and the plain TypeError of a key/algorithm mismatch
  }
}

export interface MintProfileOptions {
  /** The claims Veneer's rules will see as `profile.<claim>` (e.g. `{ tier: 'gold' }`). */
  claims: Record<string, unknown>
  /** Lifetime in seconds (`exp` is required by Veneer). Default 1 day. */
  ttlSeconds?: number
  /** HS256: the same value as the Worker's `PROFILE_SECRET`. */
  secret?: string
  /** ES256 / RS256 / EdDSA: a private JWK whose public half is in `PROFILE_JWKS` (with the same `kid`). */
  privateJwk?: JWK
  /** Required with `privateJwk` unless the JWK names its own `alg`. */
  alg?: 'ES256' | 'RS256' | 'EdDSA'
  issuer?: string
  audience?: string
  subject?: string
  /** Issue time in epoch seconds (default now). */
  now?: number
}

/**
 * Mints a `veneer_profile` token as a site's backend would, for docs, tests and the CLI.
 * Set it on your own domain: `Set-Cookie: veneer_profile=<token>; Path=/; Secure; HttpOnly; SameSite=Lax`.
 *
 * @example
 * const token = await mintProfileToken({ secret: env.PROFILE_SECRET, claims: { tier: 'gold' }, ttlSeconds: 3600 })
 */
export async function mintProfileToken(o: MintProfileOptions): Promise<string> {
  const now = o.now ?? Math.floor(Date.now() / 1000)
  const ttl = o.ttlSeconds ?? 86_400
  if (!(Number.isInteger(ttl) && ttl > 0)) throw new RangeError('ttlSeconds must be a positive whole number')
  let jwt = new SignJWT({ ...o.claims }).setIssuedAt(now).setExpirationTime(now + ttl)
  if (o.issuer !== undefined) jwt = jwt.setIssuer(o.issuer)
  if (o.audience !== undefined) jwt = jwt.setAudience(o.audience)
  if (o.subject !== undefined) jwt = jwt.setSubject(o.subject)
  if (o.privateJwk !== undefined) {
    const alg = o.alg ?? o.privateJwk.alg
    if (alg === undefined || !(ASYMMETRIC_ALGS as readonly string[]).includes(alg))
      throw new TypeError('alg must be ES256, RS256 or EdDSA')
    const key = await importJWK(o.privateJwk, alg)
    return jwt
      .setProtectedHeader({ alg, typ: 'JWT', ...(o.privateJwk.kid === undefined ? {} : { kid: o.privateJwk.kid }) })
      .sign(key)
  }
  if (o.secret === undefined || o.secret === '') throw new TypeError('give a secret (HS256) or a privateJwk')
  return jwt.setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(o.secret))
}
