import fc from 'fast-check'
import { base64url, jwtVerify, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { keyringFor } from '../../src/identity/keys'
import { decodeVisitor, encodeVisitor, newVisitorRecord } from '../../src/identity/visitor-token'
import { asciiText, base64urlLength, writeBase64url } from '../../src/util/base64url'

const NOW = 1_700_000_000

function written(src: Uint8Array | string, at = 0): string {
  const out = new Uint8Array(at + base64urlLength(src.length) + 4).fill(0x21)
  const end = writeBase64url(out, at, src)
  expect(end).toBe(at + base64urlLength(src.length))
  expect([...out.subarray(end)].every((b) => b === 0x21)).toBe(true) // nothing written past the end
  return asciiText(out.subarray(at, end))
}

describe('base64url into bytes (the visitor token signer)', () => {
  it('writes what jose base64url.encode gives, for any bytes and any ASCII text, at any offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(9), (bytes, at) => {
        expect(written(bytes, at)).toBe(base64url.encode(bytes))
      }),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 300 }),
        (text) => {
          expect(written(text)).toBe(base64url.encode(text))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('signs tokens jose verifies and that equal SignJWT, also with non-ASCII claims, over 2 KB', async () => {
    const secret = 'visitor-secret-for-base64url-check-0123456789'
    const ring = (await keyringFor(secret))!
    const key = ring.keys.get(ring.signingKid)!
    for (const names of [
      ['café', 'ünï'],
      ['😀 emoji', 'x'],
      ['plain', 'ascii'],
    ]) {
      const record = newVisitorRecord(NOW)
      // 40 assignments: a token of over 2 KB, well past one base64 block of anything
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

  it('tokens signed one after another do not share bytes: each verifies after the next was signed', async () => {
    const ring = (await keyringFor('visitor-secret-for-interleaving-0123456789'))!
    const records = Array.from({ length: 20 }, (_, i) => {
      const r = newVisitorRecord(NOW)
      r.behavior.pageViews = i + 1
      return r
    })
    const tokens = await Promise.all(records.map((r) => encodeVisitor(ring, r, NOW, 3600)))
    for (const [i, token] of tokens.entries()) expect((await decodeVisitor(ring, token, NOW))?.behavior.pageViews).toBe(i + 1)
  })
})
