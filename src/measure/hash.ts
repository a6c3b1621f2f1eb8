import { signingSecret } from '../identity/keys'
import { logWarn } from '../util/log'

const encoder = new TextEncoder()
// One imported key per secret, per isolate (STYLE 7): importKey is not free.
const keys = new Map<string, Promise<CryptoKey>>()
let warnedMissing = false

/**
 * The key measurement hashes visitor ids with: `VISITOR_SECRET`, or its first key when it
 * holds several as `kid:secret,kid:secret` (the same list the `veneer_visitor` cookie rotates).
 */
export function measurementKey(secret: string | undefined): string | undefined {
  // The keyring's own parser, so both agree on what a key id is (issue 10: 32 here vs 64 there).
  return secret === undefined ? undefined : signingSecret(secret)
}

export type VisitorHasher = (visitorId: string) => Promise<string>

/**
 * A keyed hash of visitor ids: hex HMAC-SHA-256 with the measurement key. Raw ids never reach
 * D1, the queue or logs; without the key nothing can be recorded (undefined, logged once).
 *
 * @example
 * const hash = visitorHasher(env.VISITOR_SECRET)
 * if (hash) await hash('v_123') // '5c1f…' (64 hex digits)
 */
export function visitorHasher(secret: string | undefined): VisitorHasher | undefined {
  const key = measurementKey(secret)
  if (key === undefined) {
    if (!warnedMissing) {
      warnedMissing = true
      logWarn('measure_disabled_no_visitor_secret', { hint: 'set VISITOR_SECRET to record exposures and conversions' })
    }
    return undefined
  }
  let imported = keys.get(key)
  if (imported === undefined) {
    imported = crypto.subtle.importKey('raw', encoder.encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    imported.catch(() => keys.delete(key))
    keys.set(key, imported)
  }
  const ready = imported
  return async function hashVisitor(visitorId) {
    const mac = await crypto.subtle.sign('HMAC', await ready, encoder.encode(visitorId))
    return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('')
  }
}
