import { logWarn } from '../util/log'

/**
 * The `VISITOR_SECRET` keyring. Format: `kid1:secret1,kid2:secret2` — the first key signs, every
 * listed key verifies (rotation: put the new key first, drop the old one once its cookies have
 * expired). A value that is not such a list is one key with kid `default`. Kids are
 * `[A-Za-z0-9_.-]{1,32}`; secrets should be at least 32 random characters.
 */
export interface Keyring {
  /** The kid that signs new tokens. */
  signingKid: string
  keys: ReadonlyMap<string, CryptoKey>
}

/** A key id: the one rule for the cookie keyring and measurement hashing (src/measure/hash.ts). */
export const KID = /^[A-Za-z0-9_.-]{1,32}$/
export const DEFAULT_KID = 'default'

/** Splits a secret into `[kid, secret]` pairs, or one `default` pair for a plain value. */
export function parseKeyringSpec(spec: string): [string, string][] {
  const parts = spec.split(',').map((p) => p.trim())
  const pairs: [string, string][] = []
  for (const part of parts) {
    const colon = part.indexOf(':')
    const kid = colon < 0 ? '' : part.slice(0, colon)
    const secret = colon < 0 ? '' : part.slice(colon + 1)
    if (!KID.test(kid) || secret === '') return [[DEFAULT_KID, spec]]
    pairs.push([kid, secret])
  }
  return pairs
}

/** The secret that signs (and keys measurement hashing): the first key of the list. */
export function signingSecret(spec: string): string | undefined {
  const first = parseKeyringSpec(spec.trim())[0]?.[1]
  return first === undefined || first === '' ? undefined : first
}

async function importHmac(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ])
}

// Keys are imported once per isolate and secret value (STYLE 7): the secret rarely changes.
const cache = new Map<string, Promise<Keyring>>()

/** The keyring for a secret value, imported once per isolate; undefined when unset or empty. */
export function keyringFor(secret: string | undefined): Promise<Keyring> | undefined {
  if (secret === undefined || secret.trim() === '') return undefined
  let ring = cache.get(secret)
  if (ring === undefined) {
    if (cache.size > 8) cache.clear() // a bounded cache: secrets only change on rotation
    const pairs = parseKeyringSpec(secret.trim())
    for (const [kid, s] of pairs) if (s.length < 32) logWarn('visitor_secret_short', { kid, length: s.length })
    ring = (async () => {
      const keys = new Map<string, CryptoKey>()
      for (const [kid, s] of pairs) if (!keys.has(kid)) keys.set(kid, await importHmac(s))
      return { signingKid: pairs[0]?.[0] ?? DEFAULT_KID, keys }
    })()
    void ring.catch(() => cache.delete(secret)) // a failed import is retried on the next request
    cache.set(secret, ring)
  }
  return ring
}
