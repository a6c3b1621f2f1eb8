import { SignJWT, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Env } from '../../src/env'
import { keyringFor, parseKeyringSpec } from '../../src/identity/keys'
import { mintProfileToken, verifyProfileToken } from '../../src/identity/profile-token'
import { decodeVisitor, encodeVisitor, newVisitorRecord } from '../../src/identity/visitor-token'
import { Settings } from '../../src/rules/schema'
import { jwtPayload, send, seedRuleset } from './helpers'

const enc = new TextEncoder()
const NOW = Math.floor(Date.UTC(2026, 10, 22, 12) / 1000)
const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

/** A syntactically fine JWT with any header, payload and signature. */
const craft = (header: object, payload: object, sig = '') => `${b64(header)}.${b64(payload)}.${sig}`

function visitorClaims(over: Record<string, unknown> = {}) {
  return { sub: 'AAAAAAAAAAAAAAAAAAAAAA', fs: NOW - 100, ls: NOW - 50, ss: 1, pv: 3, vw: { product: 2 }, ca: 0, pu: 0, ...over }
}

async function hs256(
  secret: string,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'HS256', kid: 'default' },
) {
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(enc.encode(secret))
}

describe('veneer_visitor signing (hand-rolled compact HS256)', () => {
  it('produces exactly the token jose SignJWT produces for the same record, and jose verifies it', async () => {
    const secret = 'visitor-secret-for-signing-check-0123456789'
    const ring = (await keyringFor(secret))!
    const record = newVisitorRecord(NOW)
    record.behavior.pageViews = 7
    record.behavior.views = { product: 3, shoes: 1 }
    record.assignments = [['exp-1', 'b']]
    const ours = await encodeVisitor(ring, record, NOW, 3600)
    const key = ring.keys.get(ring.signingKid)!
    const [, payload] = ours.split('.')
    const claims = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(atob(payload!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))),
    )
    const { iat, exp, ...rest } = claims
    const theirs = await new SignJWT(rest)
      .setProtectedHeader({ alg: 'HS256', kid: ring.signingKid })
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key)
    expect(ours).toBe(theirs)
    expect(exp - iat).toBe(3600)
    expect(await decodeVisitor(ring, ours, NOW)).toMatchObject({
      id: record.id,
      behavior: { pageViews: 7, views: { product: 3, shoes: 1 } },
    })
  })

  it('signs tokens jose verifies and that equal SignJWT, also with non-ASCII claims, over 2 KB', async () => {
    const secret = 'visitor-secret-for-non-ascii-check-0123456789'
    const ring = (await keyringFor(secret))!
    const key = ring.keys.get(ring.signingKid)!
    for (const names of [
      ['café', 'ünï'],
      ['😀 emoji', 'x'],
      ['plain', 'ascii'],
    ]) {
      const record = newVisitorRecord(NOW)
      // 40 assignments: a token of over 2 KB, many base64 blocks
      record.assignments = [
        ...Array.from({ length: 39 }, (_, i): [string, string] => [`experiment-number-${i}`, 'variant-b']),
        [names[0]!, names[1]!],
      ]
      record.behavior.views = { [names[0]!]: 2 }
      const ours = await encodeVisitor(ring, record, NOW, 3600)
      const { payload } = await jwtVerify(ours, key, { algorithms: ['HS256'], currentDate: new Date(NOW * 1000) })
      const { iat, exp, ...rest } = payload
      const theirs = await new SignJWT(rest)
        .setProtectedHeader({ alg: 'HS256', kid: ring.signingKid })
        .setIssuedAt(iat!)
        .setExpirationTime(exp!)
        .sign(key)
      expect(ours).toBe(theirs)
      expect(ours.length).toBeGreaterThan(2000)
      // The reader accepts ASCII names only (src/identity/visitor-token.ts): the others are signed
      // faithfully but never read back as a record.
      const back = await decodeVisitor(ring, ours, NOW)
      expect(back?.assignments.at(-1)).toEqual(names[0] === 'plain' ? ['plain', 'ascii'] : undefined)
    }
  })

  it('visitor ids: 128 random bits each, never one twice, also across refills of the random pool', () => {
    const ids = Array.from({ length: 700 }, () => newVisitorRecord(NOW).id) // 256 ids per 4 KiB pool
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(new Set(ids).size).toBe(ids.length)
    // Uniform bytes: each of the 64 characters of the first position turns up (700 draws, ~11 each).
    expect(new Set(ids.map((id) => id[0])).size).toBeGreaterThan(56)
  })
})

describe('veneer_visitor tokens: every bad kind is ignored as absent', () => {
  const SECRET = 'visitor-secret-for-the-token-table-0123'
  let rsaPrivate: CryptoKey
  beforeAll(async () => {
    rsaPrivate = (await generateKeyPair('RS256')).privateKey
  })
  const ring = () => keyringFor(SECRET)!
  const timed = (over: Record<string, unknown> = {}) => ({ ...visitorClaims(), iat: NOW - 10, exp: NOW + 3600, ...over })

  it('accepts a good token (the control row)', async () => {
    const token = await hs256(SECRET, timed())
    expect(await decodeVisitor(await ring(), token, NOW)).toMatchObject({
      id: 'AAAAAAAAAAAAAAAAAAAAAA',
      behavior: { pageViews: 3, views: { product: 2 } },
    })
  })

  const table: [string, () => Promise<string>][] = [
    ['bad signature', async () => hs256('another-secret-of-the-same-length-01234', timed())],
    ['alg none', async () => craft({ alg: 'none', kid: 'default' }, timed())],
    ['alg none with a signature', async () => `${craft({ alg: 'none' }, timed())}AAAA`],
    [
      'RS256 instead of HS256',
      async () => new SignJWT(timed()).setProtectedHeader({ alg: 'RS256', kid: 'default' }).sign(rsaPrivate),
    ],
    [
      'HS512 instead of HS256',
      async () => new SignJWT(timed()).setProtectedHeader({ alg: 'HS512', kid: 'default' }).sign(enc.encode(SECRET)),
    ],
    ['unknown kid', async () => hs256(SECRET, timed(), { alg: 'HS256', kid: 'nope' })],
    ['expired', async () => hs256(SECRET, timed({ exp: NOW - 1 }))],
    ['not yet valid (nbf in the future)', async () => hs256(SECRET, timed({ nbf: NOW + 600 }))],
    ['no exp', async () => hs256(SECRET, { ...visitorClaims(), iat: NOW })],
    ['garbage', async () => 'this is not a token'],
    ['three dots of garbage', async () => 'a.b.c'],
    ['truncated', async () => (await hs256(SECRET, timed())).slice(0, -6)],
    ['oversized', async () => hs256(SECRET, timed({ pad: 'x'.repeat(5000) }))],
    ['well signed, malformed payload (negative counter)', async () => hs256(SECRET, timed({ pv: -1 }))],
    ['well signed, malformed payload (short id)', async () => hs256(SECRET, timed({ sub: 'abc' }))],
  ]
  it.each(table)('%s', async (_kind, make) => {
    expect(await decodeVisitor(await ring(), await make(), NOW)).toBeUndefined()
  })

  it('drops a "__proto__" category instead of touching the prototype', async () => {
    const token = await hs256(SECRET, timed({ vw: JSON.parse('{"__proto__": {"polluted": 1}, "product": 1}') }))
    const r = await decodeVisitor(await ring(), token, NOW)
    expect(r?.behavior.views).toEqual({ product: 1 })
    expect(Object.getPrototypeOf(r?.behavior.views)).toBe(Object.prototype)
  })

  it('rotation: an old kid verifies while listed and is refused once removed; the first key signs', async () => {
    const oldRing = await keyringFor('k1:old-secret-0123456789abcdef0123456789')!
    const rotated = await keyringFor('k2:new-secret-0123456789abcdef0123456789,k1:old-secret-0123456789abcdef0123456789')!
    const retired = await keyringFor('k2:new-secret-0123456789abcdef0123456789')!
    const token = await encodeVisitor(oldRing, newVisitorRecord(NOW), NOW, 3600)
    expect(await decodeVisitor(rotated, token, NOW)).toBeDefined()
    expect(await decodeVisitor(retired, token, NOW)).toBeUndefined()
    const fresh = await encodeVisitor(rotated, newVisitorRecord(NOW), NOW, 3600)
    expect(JSON.parse(atob(fresh.split('.')[0] ?? ''))).toMatchObject({ alg: 'HS256', kid: 'k2' })
    expect(await decodeVisitor(retired, fresh, NOW)).toBeDefined()
  })

  it('parses the secret format: a list of kid:secret, else one key named "default"', () => {
    expect(parseKeyringSpec('k2:aaa,k1:bbb')).toEqual([
      ['k2', 'aaa'],
      ['k1', 'bbb'],
    ])
    expect(parseKeyringSpec('plain-secret-value')).toEqual([['default', 'plain-secret-value']])
    expect(parseKeyringSpec('k1:aaa,not a pair')).toEqual([['default', 'k1:aaa,not a pair']])
  })
})

describe('veneer_profile tokens', () => {
  const settings = Settings.parse({})
  const SECRET = 'profile-secret-for-the-token-table-01234'
  let rsa: { privateKey: CryptoKey; publicJwk: JWK; privateJwk: JWK }
  let es: { privateJwk: JWK; publicJwk: JWK }
  let ed: { privateJwk: JWK; publicJwk: JWK }
  let jwksEnv: Env
  const hsEnv: Env = { PROFILE_SECRET: SECRET }
  const claims = { tier: 'gold', interests: ['trail'] }

  beforeAll(async () => {
    const pair = async (alg: string, kid: string) => {
      const k = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })
      return {
        privateKey: k.privateKey,
        privateJwk: { ...(await exportJWK(k.privateKey)), kid, alg },
        publicJwk: { ...(await exportJWK(k.publicKey)), kid, alg },
      }
    }
    rsa = await pair('RS256', 'rsa-1')
    es = await pair('ES256', 'es-1')
    ed = await pair('EdDSA', 'ed-1')
    jwksEnv = { PROFILE_JWKS: JSON.stringify({ keys: [rsa.publicJwk, es.publicJwk, ed.publicJwk] }) }
  })

  const verify = (env: Env, token: string, s = settings) => verifyProfileToken(env, s, token, new Date(NOW * 1000))

  it('accepts HS256 with PROFILE_SECRET, and ES256, RS256, EdDSA by kid from PROFILE_JWKS', async () => {
    expect(await verify(hsEnv, await mintProfileToken({ secret: SECRET, claims, now: NOW }))).toEqual(claims)
    for (const k of [rsa, es, ed]) {
      const token = await mintProfileToken({ privateJwk: k.privateJwk, claims, now: NOW, subject: 'customer-7' })
      expect(await verify(jwksEnv, token)).toEqual({ ...claims, sub: 'customer-7' })
    }
  })

  it('checks iss and aud when the settings name them', async () => {
    const strict = Settings.parse({ profile: { issuer: 'https://shop.example', audience: 'veneer' } })
    const good = await mintProfileToken({ secret: SECRET, claims, now: NOW, issuer: 'https://shop.example', audience: 'veneer' })
    expect(await verify(hsEnv, good, strict)).toEqual(claims)
    expect(
      await verify(
        hsEnv,
        await mintProfileToken({ secret: SECRET, claims, now: NOW, issuer: 'https://evil.example', audience: 'veneer' }),
        strict,
      ),
    ).toBeUndefined()
    expect(
      await verify(hsEnv, await mintProfileToken({ secret: SECRET, claims, now: NOW, issuer: 'https://shop.example' }), strict),
    ).toBeUndefined()
  })

  const bothEnv = () => ({ ...jwksEnv, ...hsEnv })
  const table: [string, () => Env, () => Promise<string>][] = [
    [
      'bad signature',
      () => hsEnv,
      () => mintProfileToken({ secret: 'not-the-profile-secret-0123456789abcdef', claims, now: NOW }),
    ],
    ['alg none', () => bothEnv(), async () => craft({ alg: 'none' }, { ...claims, exp: NOW + 60 })],
    [
      'HS/RS confusion: HS256 signed with the RSA public key (JWKS only)',
      () => jwksEnv,
      () => hs256(JSON.stringify(rsa.publicJwk), { ...claims, exp: NOW + 60 }, { alg: 'HS256', kid: 'rsa-1' }),
    ],
    [
      'HS/RS confusion: HS256 signed with the RSA public key (both configured)',
      () => bothEnv(),
      () => hs256(JSON.stringify(rsa.publicJwk), { ...claims, exp: NOW + 60 }, { alg: 'HS256', kid: 'rsa-1' }),
    ],
    [
      'RS256 when only PROFILE_SECRET is configured',
      () => hsEnv,
      () => mintProfileToken({ privateJwk: rsa.privateJwk, claims, now: NOW }),
    ],
    ['unknown kid', () => jwksEnv, () => mintProfileToken({ privateJwk: { ...rsa.privateJwk, kid: 'rsa-9' }, claims, now: NOW })],
    [
      'kid of another key type',
      () => jwksEnv,
      () => mintProfileToken({ privateJwk: { ...rsa.privateJwk, kid: 'es-1' }, claims, now: NOW }),
    ],
    ['expired', () => hsEnv, () => mintProfileToken({ secret: SECRET, claims, now: NOW - 7200, ttlSeconds: 3600 })],
    [
      'not yet valid (nbf in the future)',
      () => hsEnv,
      () => hs256(SECRET, { ...claims, exp: NOW + 7200, nbf: NOW + 3600 }, { alg: 'HS256' }),
    ],
    ['no exp', () => hsEnv, () => hs256(SECRET, { ...claims }, { alg: 'HS256' })],
    ['garbage', () => bothEnv(), async () => '@@@not-a-token@@@'],
    ['truncated', () => hsEnv, async () => (await mintProfileToken({ secret: SECRET, claims, now: NOW })).slice(0, -4)],
    [
      'oversized',
      () => hsEnv,
      () => mintProfileToken({ secret: SECRET, claims: { ...claims, blob: 'x'.repeat(5000) }, now: NOW }),
    ],
    ['no key configured at all', () => ({}), () => mintProfileToken({ secret: SECRET, claims, now: NOW })],
    [
      'a PROFILE_JWKS that is not JSON',
      () => ({ PROFILE_JWKS: '{nope' }),
      () => mintProfileToken({ privateJwk: rsa.privateJwk, claims, now: NOW }),
    ],
  ]
  it.each(table)('refuses: %s', async (_kind, env, make) => {
    expect(await verify(env(), await make())).toBeUndefined()
  })
})

describe('through the Worker: bad tokens never cost a 5xx', () => {
  beforeAll(async () => {
    await seedRuleset({
      version: 'tokens-1',
      segments: [
        { id: 'loyal', when: { 'profile.tier': 'gold' } },
        { id: 'returning', when: { 'behavior.pageViews': { $gte: 1 } } },
      ],
      placements: [
        {
          id: 'p',
          paths: ['/*'],
          selector: '#offer',
          variants: [{ id: 'l', ops: [{ op: 'setText', value: 'LOYAL' }] }],
          rules: [{ segment: 'loyal', variant: 'l' }],
        },
        {
          id: 'r',
          paths: ['/*'],
          selector: '#promo',
          variants: [{ id: 'r', ops: [{ op: 'setText', value: 'RETURNING' }] }],
          rules: [{ segment: 'returning', variant: 'r' }],
        },
      ],
    })
  })

  it('replaces a forged veneer_visitor with a fresh visitor and ignores a forged profile', async () => {
    const forged = craft({ alg: 'none' }, { ...visitorClaims({ pv: 99 }), iat: NOW, exp: NOW + 9e6 })
    const forgedProfile = craft({ alg: 'none' }, { tier: 'gold', exp: NOW + 9e6 })
    const { res, body, jar } = await send('/products/backpack', {
      cookies: { veneer_visitor: forged, veneer_profile: forgedProfile },
    })
    expect(res.status).toBe(200)
    expect(body).not.toContain('RETURNING')
    expect(body).not.toContain('LOYAL')
    const fresh = jwtPayload(jar.veneer_visitor ?? '')
    expect(fresh.sub).not.toBe('AAAAAAAAAAAAAAAAAAAAAA')
    expect(fresh.pv).toBe(1)
  })

  it('uses a good profile token from the site backend', async () => {
    const { testEnv } = await import('./helpers')
    const token = await mintProfileToken({ secret: testEnv.PROFILE_SECRET, claims: { tier: 'gold' } })
    const { body } = await send('/products/backpack', { cookies: { veneer_profile: token } })
    expect(body).toContain('LOYAL')
  })
})
