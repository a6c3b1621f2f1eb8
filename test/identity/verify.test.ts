import fc from 'fast-check'
import { base64url, jwtVerify, type JWTHeaderParameters } from 'jose'
import { describe, expect, it } from 'vitest'
import { DEFAULT_KID, keyringFor, type Keyring } from '../../src/identity/keys'
import { verifyVisitorClaims } from '../../src/identity/visitor-token'

const enc = new TextEncoder()
const NOW = Math.floor(Date.UTC(2026, 10, 30, 12) / 1000)
const SECRETS = { default: 'default-secret-0123456789abcdef0123', old: 'old-secret-0123456789abcdef0123456' }
const WRONG = 'wrong-secret-0123456789abcdef01234'

async function ring(): Promise<Keyring> {
  const r = await keyringFor(`default:${SECRETS.default},old:${SECRETS.old}`)
  if (r === undefined) throw new Error('no ring')
  return r
}

async function hmac(secret: string, input: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return base64url.encode(new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(input))))
}

/** The oracle: jose's own verification with the options Veneer used to pass it. */
async function jose(r: Keyring, token: string): Promise<Record<string, unknown> | undefined> {
  try {
    const getKey = (header: JWTHeaderParameters) => {
      const key = r.keys.get(header.kid ?? DEFAULT_KID)
      if (key === undefined) throw new Error('unknown kid')
      return key
    }
    const { payload } = await jwtVerify(token, getKey, {
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'iat'],
      currentDate: new Date(NOW * 1000),
    })
    return payload as Record<string, unknown>
  } catch {
    return undefined
  }
}

async function ours(r: Keyring, token: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await verifyVisitorClaims(r, token, NOW)
  } catch {
    return undefined // decodeVisitor takes a throw as no cookie
  }
}

const absent = Symbol('absent')
/** A member: most often `usual` (what Veneer issues), else absent or one of the others. */
const field = <T>(usual: T | typeof absent, ...others: T[]) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constant(usual) },
    { weight: 2, arbitrary: fc.constantFrom<T | typeof absent>(absent, ...others) },
  )
const withFields = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== absent))

/** Protected headers: mostly close to Veneer's own, with every parameter jose looks at varied. */
const header = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .record({
        alg: field<unknown>('HS256', 'HS384', 'none', 'hs256', 256),
        kid: field<unknown>('default', 'old', 'nope', null, 5),
        crit: field<unknown>(absent, ['b64'], [], ['exp'], 'b64'),
        b64: field<unknown>(absent, true, false, 'yes'),
        typ: field<unknown>(absent, 'JWT', 'jwt'),
      })
      .map((h) => JSON.stringify(withFields(h))),
  },
  fc.constantFrom('[1]', '"HS256"', 'null', '{"alg":"HS256"', '\uFEFF{"alg":"HS256"}'),
)

/** Claims: exp, iat and nbf on every side of now and of the wrong type, among other members. */
const claims = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .record({
        sub: field<unknown>('AAAAAAAAAAAAAAAAAAAAAA', 5),
        exp: field<unknown>(NOW + 100, NOW + 1, NOW, NOW - 1, '9999999999', null, 1e12),
        iat: field<unknown>(NOW - 10, NOW + 1000, 'now', null),
        nbf: field<unknown>(absent, NOW - 1, NOW, NOW + 1, 'x'),
        pv: field<unknown>(3, -1, 'many'),
      })
      .map((c) => JSON.stringify(withFields(c))),
  },
  fc.constantFrom('[]', '5', '"claims"', 'null', '{"exp":'),
)

/** What an attacker or a broken client may do to a token on its way back. */
const tamper = fc.oneof(
  { weight: 8, arbitrary: fc.constant((t: string) => t) },
  fc.constantFrom(
    (t: string) => `${t}.`,
    (t: string) => t.slice(0, t.lastIndexOf('.')),
    (t: string) => t.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
    (t: string) => t.replace('.', 'A.'),
    (t: string) => `${t}=`,
    (t: string) => t.replace('.', ' .'),
    (t: string) => t.replace('.', 'é.'),
    (t: string) => t.replace(/\.[^.]*\./, (m) => `${m.slice(0, -1)}+.`),
  ),
)

describe('verifyVisitorClaims against jose (the oracle)', () => {
  it("accepts exactly the tokens jose's jwtVerify accepts, with the same claims; refuses crit and b64 headers outright", async () => {
    const r = await ring()
    let accepted = 0
    await fc.assert(
      fc.asyncProperty(
        header,
        claims,
        fc.constantFrom(SECRETS.default, SECRETS.default, SECRETS.old, WRONG),
        tamper,
        async (h, c, secret, t) => {
          const input = `${base64url.encode(h)}.${base64url.encode(c)}`
          const token = t(`${input}.${await hmac(secret, input)}`)
          const expected = await jose(r, token)
          const actual = await ours(r, token)
          let parsed: unknown
          try {
            parsed = JSON.parse(h)
          } catch {
            parsed = undefined
          }
          const extension = typeof parsed === 'object' && parsed !== null && ('crit' in parsed || 'b64' in parsed)
          if (extension) expect(actual).toBeUndefined()
          else expect(actual).toEqual(expected)
          if (actual !== undefined) accepted++
        },
      ),
      { numRuns: 600 },
    )
    expect(accepted, 'the property reached accepted tokens, not only refusals').toBeGreaterThan(5)
  })

  it('accepts a token of each key of the ring, and the same header text the second time', async () => {
    const r = await ring()
    for (const kid of ['default', 'old'] as const) {
      const input = `${base64url.encode(JSON.stringify({ alg: 'HS256', kid }))}.${base64url.encode(JSON.stringify({ exp: NOW + 60, iat: NOW, n: kid }))}`
      const token = `${input}.${await hmac(SECRETS[kid], input)}`
      for (let i = 0; i < 2; i++) expect(await verifyVisitorClaims(r, token, NOW)).toEqual({ exp: NOW + 60, iat: NOW, n: kid })
      // The remembered header names a key, it does not vouch for the signature.
      expect(await ours(r, `${input}.${await hmac(WRONG, input)}`)).toBeUndefined()
    }
  })
})
