/**
 * The bucketing hash, published in docs/experiments.md so other tools (a warehouse query, a
 * notebook) can reproduce every assignment: MurmurHash3 x86 32-bit, seed 0, over the UTF-8
 * bytes of `"<salt>:<id>:<visitorId>"`, divided by 2^32 → a number uniform in [0, 1).
 * Synchronous and pure JS because `decide` is synchronous (no `crypto.subtle` here).
 */

const encoder = new TextEncoder()
const C1 = 0xcc9e2d51
const C2 = 0x1b873593

function mixK(k: number): number {
  k = Math.imul(k, C1)
  k = (k << 15) | (k >>> 17)
  return Math.imul(k, C2)
}

/**
 * MurmurHash3_x86_32 (Austin Appleby, public domain) of a string's UTF-8 bytes, unsigned.
 * @example murmur3('The quick brown fox jumps over the lazy dog') === 0x2e4ff723
 */
export function murmur3(key: string, seed = 0): number {
  const data = encoder.encode(key)
  const len = data.length
  const blocks = len & ~3
  let h = seed >>> 0
  for (let i = 0; i < blocks; i += 4) {
    const k =
      (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24)
    h ^= mixK(k)
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  const rest = len & 3
  if (rest > 0) {
    let k = 0
    if (rest === 3) k ^= (data[blocks + 2] as number) << 16
    if (rest >= 2) k ^= (data[blocks + 1] as number) << 8
    k ^= data[blocks] as number
    h ^= mixK(k)
  }
  h ^= len
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** What a hash decides. Each purpose has its own salt, so the decisions are independent. */
export type HashSalt = 'assign' | 'traffic' | 'layer' | 'holdout'

/** The exact string that is hashed: `"<salt>:<id>:<visitorId>"`. */
export function hashKey(salt: HashSalt, id: string, visitorId: string): string {
  return `${salt}:${id}:${visitorId}`
}

/**
 * A visitor's position in [0, 1) for one purpose and one experiment (or layer).
 * @example unitHash('assign', 'evening-copy', visitorId) < 0.5 // first half of a 50/50 split
 */
export function unitHash(salt: HashSalt, id: string, visitorId: string): number {
  return murmur3(hashKey(salt, id, visitorId)) / 0x1_0000_0000
}

/** The id the global holdout hashes with: `holdout:global:<visitorId>`. */
export const HOLDOUT_ID = 'global'
