import { isRecord } from '../util/guards'
import { base64url } from 'jose'
import { z } from 'zod'
import type { BehaviorContext } from '../context/types'
import { type ExposureMemo, MemoClaim, memosFromClaim, memosToClaim } from '../measure/memory'
import { DEFAULT_KID, type Keyring } from './keys'

/**
 * The `veneer_visitor` token (SPEC 5): an HS256 JWT holding a random visitor id, first/last
 * seen, sessions, behavior counters and sticky experiment assignments. Short claim names keep
 * it small; {@link encodeVisitor} prunes it so the cookie stays under 4 KB whatever happens.
 */
export interface VisitorRecord {
  id: string
  /** Epoch seconds. */
  firstSeen: number
  lastSeen: number
  sessions: number
  behavior: BehaviorContext
  /** Experiment id → variant id, oldest first (pruned from the front). */
  assignments: [string, string][]
  /** Recently viewed item ids (SPEC 13), most recent last; at most {@link MAX_RECENT_ITEMS}. */
  recent?: string[]
  /** Item ids added to the cart or bought, most recent last; at most {@link MAX_PURCHASED_ITEMS}. */
  purchased?: string[]
  /**
   * The items the last recommendations showed, each with 1 when exploration filled its slot
   * (analytics consent only): a later view of one counts as a follow-through (SPEC 13).
   */
  shown?: [string, 0 | 1][]
  /** Measurement memory (src/measure/memory.ts): experiments counted, goals reached. */
  memos?: ExposureMemo[]
}

/** A token longer than this is refused unread. */
export const MAX_VISITOR_TOKEN = 4000
/** Payload JSON budget: base64url of 2,600 bytes plus header and signature is ~3.6 KB. */
export const MAX_PAYLOAD_BYTES = 2600
export const MAX_ASSIGNMENTS = 50
export const MAX_CATEGORIES = 20
export const MAX_COUNT = 1_000_000_000
/** Item lists kept for recommendations; ids are at most 64 characters (src/recs/catalog.ts). */
export const MAX_RECENT_ITEMS = 12
export const MAX_PURCHASED_ITEMS = 6
export const MAX_SHOWN_ITEMS = 8
const ItemIds = (max: number) =>
  z
    .array(
      z
        .string()
        .max(64)
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/),
    )
    .max(max)

const Name = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/)
const Count = z.number().int().min(0).max(MAX_COUNT)
const Epoch = z.number().int().min(0).max(1e11)
const Payload = z.object({
  sub: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  fs: Epoch,
  ls: Epoch,
  ss: z.number().int().min(1).max(MAX_COUNT),
  pv: Count,
  vw: z.record(Name, Count).refine((v) => Object.keys(v).length <= MAX_CATEGORIES * 2),
  ca: Count,
  pu: Count,
  le: Name.optional(),
  as: z
    .array(z.tuple([Name, Name]))
    .max(MAX_ASSIGNMENTS * 2)
    .optional(),
  ri: ItemIds(MAX_RECENT_ITEMS).optional(),
  pi: ItemIds(MAX_PURCHASED_ITEMS).optional(),
  rs: z
    .array(
      z.tuple([
        z
          .string()
          .max(64)
          .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/),
        z.union([z.literal(0), z.literal(1)]),
      ]),
    )
    .max(MAX_SHOWN_ITEMS)
    .optional(),
  mx: MemoClaim.optional(),
})

/** Random bytes drawn ahead for visitor ids: one runtime call per 256 ids (~6 µs each in workerd). */
const ID_POOL_BYTES = 4096
let idPool: Uint8Array | undefined
let idPoolAt = ID_POOL_BYTES

/**
 * A fresh random visitor id: 128 bits, base64url (22 characters). The bytes come from
 * `crypto.getRandomValues` drawn 4 KiB at a time (first use inside a request: the runtime
 * refuses it at module scope), each byte used once.
 */
export function newVisitorId(): string {
  if (idPool === undefined || idPoolAt + 16 > ID_POOL_BYTES) {
    idPool = crypto.getRandomValues(new Uint8Array(ID_POOL_BYTES))
    idPoolAt = 0
  }
  const bytes = idPool.subarray(idPoolAt, idPoolAt + 16)
  idPoolAt += 16
  return base64url.encode(bytes)
}

export function emptyBehavior(): BehaviorContext {
  return { pageViews: 0, views: {}, cartAdds: 0, purchases: 0 }
}

export function newVisitorRecord(nowSec: number): VisitorRecord {
  return { id: newVisitorId(), firstSeen: nowSec, lastSeen: nowSec, sessions: 1, behavior: emptyBehavior(), assignments: [] }
}

function payloadOf(r: VisitorRecord): Record<string, unknown> {
  const b = r.behavior
  const p: Record<string, unknown> = {
    sub: r.id,
    fs: r.firstSeen,
    ls: r.lastSeen,
    ss: r.sessions,
    pv: b.pageViews,
    vw: b.views,
    ca: b.cartAdds,
    pu: b.purchases,
  }
  if (b.lastEvent !== undefined) p.le = b.lastEvent
  if (r.assignments.length > 0) p.as = r.assignments
  if (r.recent !== undefined && r.recent.length > 0) p.ri = r.recent
  if (r.purchased !== undefined && r.purchased.length > 0) p.pi = r.purchased
  if (r.shown !== undefined && r.shown.length > 0) p.rs = r.shown
  if (r.memos !== undefined && r.memos.length > 0) p.mx = memosToClaim(r.memos)
  return p
}

/**
 * Bounds a record in place so its token fits a cookie: at most {@link MAX_ASSIGNMENTS}
 * assignments and {@link MAX_CATEGORIES} categories, then the oldest assignments and the least
 * viewed categories go until the payload fits {@link MAX_PAYLOAD_BYTES}. Returns the payload's
 * JSON, which the signature covers.
 */
export function pruneVisitor(r: VisitorRecord): string {
  if (r.assignments.length > MAX_ASSIGNMENTS) r.assignments = r.assignments.slice(-MAX_ASSIGNMENTS)
  const dropSmallestCategory = () => {
    const entries = Object.entries(r.behavior.views).sort((a, b) => a[1] - b[1])
    const smallest = entries[0]
    if (smallest === undefined) return false
    delete r.behavior.views[smallest[0]]
    return true
  }
  while (Object.keys(r.behavior.views).length > MAX_CATEGORIES) dropSmallestCategory()
  if (r.recent !== undefined && r.recent.length > MAX_RECENT_ITEMS) r.recent = r.recent.slice(-MAX_RECENT_ITEMS)
  if (r.purchased !== undefined && r.purchased.length > MAX_PURCHASED_ITEMS) r.purchased = r.purchased.slice(-MAX_PURCHASED_ITEMS)
  if (r.shown !== undefined && r.shown.length > MAX_SHOWN_ITEMS) r.shown = r.shown.slice(0, MAX_SHOWN_ITEMS)
  let json = JSON.stringify(payloadOf(r))
  while (json.length > MAX_PAYLOAD_BYTES) {
    // Recommendations' item lists go first (oldest first): sticky assignments matter more;
    // assignments go before measurement memory: a forgotten memo would count its visitor twice.
    if (r.shown !== undefined && r.shown.length > 0) r.shown = r.shown.slice(1)
    else if (r.recent !== undefined && r.recent.length > 0) r.recent = r.recent.slice(1)
    else if (r.purchased !== undefined && r.purchased.length > 0) r.purchased = r.purchased.slice(1)
    else if (r.assignments.length > 0) r.assignments = r.assignments.slice(1)
    else if (r.memos !== undefined && r.memos.length > 0) r.memos = r.memos.slice(1)
    else if (!dropSmallestCategory()) {
      r.behavior.lastEvent = undefined
      return JSON.stringify(payloadOf(r))
    }
    json = JSON.stringify(payloadOf(r))
  }
  return json
}

/** Signs a record with the keyring's first key; `exp` is `maxAgeSeconds` from now. */
export async function encodeVisitor(ring: Keyring, r: VisitorRecord, nowSec: number, maxAgeSeconds: number): Promise<string> {
  const payload = pruneVisitor(r) // the payload's JSON, measured once and signed as it is
  const key = ring.keys.get(ring.signingKid)
  if (key === undefined) throw new TypeError('the signing key is missing from the keyring')
  // What JSON.stringify({ ...payload, iat, exp }) gives, without building and serialising it again.
  return signHs256(key, ring.signingKid, `${payload.slice(0, -1)},"iat":${nowSec},"exp":${nowSec + maxAgeSeconds}}`)
}

const encoder = new TextEncoder()
/** The protected header's base64url by kid: the same few bytes for every token. */
const headers = new Map<string, string>()

/**
 * A compact HS256 JWS (RFC 7515) of the claims' JSON text, header `{"alg":"HS256","kid":…}`: what jose's
 * `SignJWT` produces, without its per-call work (it deep-copies the payload with
 * `structuredClone` and re-validates the header and claims), which cost ~0.1 ms of CPU per page
 * view in workerd (docs/performance.md). Only our own, already-validated record is signed here;
 * {@link verifyVisitorClaims} checks what comes back, held to jose's verdicts by a property test.
 */
function signHs256(key: CryptoKey, kid: string, claimsJson: string): Promise<string> {
  let header = headers.get(kid)
  if (header === undefined) {
    header = base64url.encode(JSON.stringify({ alg: 'HS256', kid }))
    if (headers.size < 16) headers.set(kid, header)
  }
  const input = `${header}.${base64url.encode(claimsJson)}`
  // Called from an async function only: a throw here still reaches its caller as a rejection.
  return crypto.subtle
    .sign('HMAC', key, encoder.encode(input))
    .then((signature) => `${input}.${base64url.encode(new Uint8Array(signature))}`)
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }) // as jose's
const NON_ASCII = /[\u0080-\uffff]/

/** Protected headers this isolate has accepted (their base64url text) → the key id each names. */
const acceptedHeaders = new Map<string, string>()

/**
 * The key id a protected header names, if Veneer accepts the header: `alg` exactly `HS256`, no
 * `crit` and no `b64` (Veneer never issues them; jose would also accept `crit: ["b64"]` with
 * `b64: true`), `kid` a string, or absent or null for the default key. Remembered by its text: a
 * site's tokens carry one header per signing key, so the JSON is read once per isolate and key.
 */
function headerKid(encoded: string): string | undefined {
  const known = acceptedHeaders.get(encoded)
  if (known !== undefined) return known
  let header: unknown
  try {
    header = JSON.parse(strictDecoder.decode(base64url.decode(encoded)))
  } catch {
    return undefined
  }
  if (!isRecord(header) || header.alg !== 'HS256' || 'crit' in header || 'b64' in header) return undefined
  const kid = header.kid ?? DEFAULT_KID
  if (typeof kid !== 'string') return undefined
  if (acceptedHeaders.size < 64 && encoded.length <= 256) acceptedHeaders.set(encoded, kid)
  return kid
}

/**
 * The claims of a compact HS256 JWS signed by a key of the ring, as jose's `jwtVerify` with
 * `algorithms: ['HS256']`, `requiredClaims: ['exp', 'iat']` and `currentDate` would accept them:
 * three parts of ASCII, the header as {@link headerKid} reads it, the signature checked by the
 * runtime (`crypto.subtle.verify`, constant time), the claims a JSON object with numeric `exp`
 * after now, numeric `iat`, and `nbf`, if any, numeric and not after now. Anything else is
 * undefined (or throws, for the caller to take as undefined). jose's general machinery cost
 * ~90 µs of CPU per returning visitor in workerd (docs/performance.md); a property test holds
 * this to jose's verdicts (test/identity/verify.test.ts).
 */
export async function verifyVisitorClaims(
  ring: Keyring,
  token: string,
  nowSec: number,
): Promise<Record<string, unknown> | undefined> {
  const dot1 = token.indexOf('.')
  const dot2 = token.indexOf('.', dot1 + 1)
  if (dot1 < 0 || dot2 < 0 || token.includes('.', dot2 + 1) || NON_ASCII.test(token)) return undefined
  const kid = headerKid(token.slice(0, dot1))
  const key = kid === undefined ? undefined : ring.keys.get(kid)
  if (key === undefined) return undefined
  const signature = base64url.decode(token.slice(dot2 + 1))
  if (!(await crypto.subtle.verify('HMAC', key, signature, encoder.encode(token.slice(0, dot2))))) return undefined
  const claims: unknown = JSON.parse(strictDecoder.decode(base64url.decode(token.slice(dot1 + 1, dot2))))
  if (!isRecord(claims)) return undefined
  const { exp, iat, nbf } = claims
  if (typeof exp !== 'number' || exp <= nowSec || typeof iat !== 'number') return undefined
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowSec)) return undefined
  return claims
}

/**
 * Verifies a `veneer_visitor` token: HS256 only, a kid in the keyring, `exp`/`iat` required,
 * a well-formed payload. Anything else — forged, expired, unknown kid, `alg: none`, garbage,
 * oversized — is `undefined`, as if there were no cookie; never an exception.
 */
export async function decodeVisitor(ring: Keyring, token: string, nowSec: number): Promise<VisitorRecord | undefined> {
  if (token.length === 0 || token.length > MAX_VISITOR_TOKEN) return undefined
  try {
    const payload = await verifyVisitorClaims(ring, token, nowSec)
    if (payload === undefined) return undefined
    const parsed = Payload.safeParse(payload)
    if (!parsed.success) return undefined
    const p = parsed.data
    const views: Record<string, number> = {}
    for (const [k, v] of Object.entries(p.vw)) if (k !== '__proto__') views[k] = v
    return {
      id: p.sub,
      firstSeen: p.fs,
      lastSeen: p.ls,
      sessions: p.ss,
      behavior: { pageViews: p.pv, views, cartAdds: p.ca, purchases: p.pu, lastEvent: p.le },
      assignments: p.as ?? [],
      ...(p.ri === undefined ? {} : { recent: p.ri }),
      ...(p.pi === undefined ? {} : { purchased: p.pi }),
      ...(p.rs === undefined ? {} : { shown: p.rs }),
      memos: memosFromClaim(p.mx),
    }
  } catch {
    return undefined // undecodable parts, and the plain TypeError of a key/algorithm mismatch
  }
}
