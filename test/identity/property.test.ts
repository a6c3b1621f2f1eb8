import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { mintProfileToken } from '../../src/identity/profile-token'
import { CF, send, seedRuleset, testEnv } from './helpers'

/**
 * Property: whatever Cookie header arrives (random names, values, separators, real tokens,
 * mangled tokens), Veneer answers without a 5xx, and sets a non-essential cookie only when the
 * header itself carries an explicit grant of personalization (opt-in here, or GPC on).
 */
// Printable ASCII: what a browser can send (other bytes make the runtime warn, not fail).
const printable = fc.string({ unit: fc.mapToConstant({ num: 95, build: (v) => String.fromCharCode(0x20 + v) }), maxLength: 80 })

let goodVisitor = ''
let goodProfile = ''

function mutate(token: string, at: number, ch: string): string {
  if (token === '') return ch
  const i = at % token.length
  return token.slice(0, i) + ch + token.slice(i + 1)
}

const value = () =>
  fc.oneof(
    fc.constantFrom(
      'personalization',
      'analytics',
      'none',
      'personalization,analytics',
      'analytics, personalization',
      'NONE',
      '',
      '""',
      '%',
      '%E0%A4%A',
      'personalization%2Canalytics',
    ),
    printable,
    fc.constant(null).map(() => goodVisitor),
    fc.constant(null).map(() => goodProfile),
    fc.tuple(fc.nat(), fc.constantFrom('A', '.', '-', '_', '=', '%')).map(([i, ch]) => mutate(goodVisitor, i, ch)),
    fc.tuple(fc.nat(), fc.constantFrom('A', '.', 'x')).map(([i, ch]) => mutate(goodProfile, i, ch)),
    fc.nat({ max: 6000 }).map((n) => 'e'.repeat(n)),
  )
const name = fc.oneof(
  fc.constantFrom(
    'veneer_consent',
    'veneer_visitor',
    'veneer_profile',
    'veneer_qa',
    'session',
    ' veneer_consent',
    'veneer_consent ',
  ),
  printable.filter((s) => !s.includes('=') && !s.includes(';')),
)
const cookieHeader = fc
  .tuple(fc.array(fc.tuple(name, value()), { maxLength: 6 }), fc.constantFrom('; ', ';', ' ; ', ',', ';;'))
  .map(([pairs, sep]) => pairs.map(([n, v]) => `${n}=${v}`).join(sep))

/** The oracle: an explicit grant of personalization somewhere in a veneer_consent pair. */
function grantsPersonalization(header: string): boolean {
  return header.split(';').some((part) => {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== 'veneer_consent') return false
    let v = part.slice(eq + 1)
    try {
      v = decodeURIComponent(v)
    } catch {
      // keep it raw
    }
    return /personalization/i.test(v)
  })
}

const paths = fc.constantFrom('/products/backpack', '/', '/checkout/', '/thanks', '/products/')

describe.each([
  ['opt-in', {}],
  ['opt-out with Sec-GPC: 1', { 'sec-gpc': '1' }],
] as const)('random cookie headers, %s', (mode, headers) => {
  beforeAll(async () => {
    goodProfile = await mintProfileToken({ secret: testEnv.PROFILE_SECRET, claims: { tier: 'gold' } })
    await seedRuleset({
      version: `property-${mode}`,
      settings: {
        consent: { default: mode === 'opt-in' ? 'opt-in' : 'opt-out', optInCountries: [] },
        categories: { product: '/products/?*' },
      },
      segments: [
        { id: 'loyal', when: { 'profile.tier': 'gold' } },
        { id: 'seen', when: { 'behavior.pageViews': { $gte: 1 } } },
      ],
      placements: [
        {
          id: 'p',
          paths: ['/*'],
          selector: '#promo',
          variants: [{ id: 'v', ops: [{ op: 'setText', value: 'PERSONAL' }] }],
          rules: [
            { segment: 'loyal', variant: 'v' },
            { segment: 'seen', variant: 'v' },
          ],
        },
      ],
    })
    const granted = await send('/products/backpack', { cookies: { veneer_consent: 'personalization' } })
    goodVisitor = granted.jar.veneer_visitor ?? ''
    expect(goodVisitor).not.toBe('')
  })

  it('never answers 5xx, never sets a cookie without an explicit grant, never shows personal variants without one', async () => {
    await fc.assert(
      fc.asyncProperty(cookieHeader, paths, fc.constantFrom(CF.DE, CF.US), async (cookie, path, cf) => {
        const { res, setCookies, body } = await send(path, { cf, headers: { ...headers, cookie } })
        expect(res.status).toBeLessThan(500)
        const granted = grantsPersonalization(cookie)
        const stored = setCookies.filter((s) => !/Max-Age=0(;|$)/.test(s))
        if (!granted) {
          expect(stored).toEqual([])
          expect(body).not.toContain('PERSONAL')
        }
        for (const s of setCookies) expect(s.startsWith('veneer_consent=')).toBe(false)
        for (const s of stored) expect(s.length).toBeLessThan(4096)
      }),
      { numRuns: 150 },
    )
  })
})
