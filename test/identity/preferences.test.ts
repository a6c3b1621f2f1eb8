import { beforeAll, describe, expect, it } from 'vitest'
import demo from '../../demo/ruleset.json'
import { mintProfileToken } from '../../src/identity/profile-token'
import { CF, send, seedRuleset, testEnv, textOf } from './helpers'

const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' }

async function formTokenFrom(cookies: Record<string, string> = {}): Promise<string> {
  const page = await send('/__veneer/preferences', { cookies })
  const m = /name="token" value="([^"]*)"/.exec(page.body)
  if (m?.[1] === undefined) throw new Error('no token in the form')
  return m[1]
}

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields)
}

async function postPrefs(
  fields: Record<string, string>,
  headers: Record<string, string> = SAME_ORIGIN,
  cookies: Record<string, string> = {},
) {
  return send('/__veneer/preferences', {
    method: 'POST',
    body: form(fields),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    cookies,
  })
}

/** A visitor cookie after `n` product views and one cart add. */
async function hesitantVisitor(): Promise<string> {
  let cookie = ''
  for (let i = 0; i < 6; i++)
    cookie =
      (await send('/products/backpack', { cookies: cookie === '' ? {} : { veneer_visitor: cookie } })).jar.veneer_visitor ??
      cookie
  const add = await send('/__veneer/events', {
    method: 'POST',
    body: '{"type":"cart_add"}',
    cookies: { veneer_visitor: cookie },
    headers: { 'sec-fetch-site': 'same-origin' },
  })
  return add.jar.veneer_visitor ?? ''
}

describe('GET /__veneer/preferences', () => {
  beforeAll(async () => {
    await seedRuleset({ ...demo, segments: [...demo.segments, { id: 'loyal', when: { 'profile.tier': 'gold' } }] })
  })

  it('shows the consent state and its source, sets no cookie, is private and not stored', async () => {
    const r = await send('/__veneer/preferences', { cf: CF.US })
    expect(r.res.status).toBe(200)
    expect(r.res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(r.res.headers.get('cache-control')).toBe('private, no-store')
    expect(r.res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(r.setCookies).toEqual([])
    expect(r.body).toContain('Personalization: <span class="on">on</span>')
    expect(r.body).toContain('on until you switch it off')
    expect(r.body).toMatch(/<form method="post" action="\/__veneer\/preferences">/)
    expect(r.body).toMatch(/<input type="checkbox" name="personalization" value="on" checked/)
  })

  it('shows GPC as the source when the browser sends Sec-GPC: 1', async () => {
    const r = await send('/__veneer/preferences', { headers: { 'sec-gpc': '1' } })
    expect(r.body).toContain('Personalization: <span class="off">off</span>')
    expect(r.body).toContain('Global Privacy Control')
  })

  it('shows the segments the visitor is in now, the counters and the profile claims used', async () => {
    const visitor = await hesitantVisitor()
    const profile = await mintProfileToken({ secret: testEnv.PROFILE_SECRET, claims: { tier: 'gold', shoeSize: 44 } })
    const r = await send('/__veneer/preferences', { cf: CF.DE, cookies: { veneer_visitor: visitor, veneer_profile: profile } })
    const segments = textOf(r.body, 'segments') ?? ''
    expect(segments.split(', ')).toEqual(expect.arrayContaining(['germany', 'eu', 'hesitant', 'loyal']))
    expect(r.body).toContain('<tr><th>Views of product pages</th><td>6</td></tr>')
    expect(r.body).toContain('<tr><th>Cart adds</th><td>1</td></tr>')
    expect(r.body).toContain('<tr><th>tier</th><td>gold</td><td class="note">used by the rules</td></tr>')
    expect(r.body).toContain('<tr><th>shoeSize</th><td>44</td><td class="note">not used</td></tr>')
    expect(r.body).not.toContain(JSON.parse(atob((visitor.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))).sub)
    expect(r.setCookies).toEqual([])
  })

  it('shows nothing personal without personalization consent', async () => {
    const visitor = await hesitantVisitor()
    const r = await send('/__veneer/preferences', {
      cf: CF.DE,
      cookies: { veneer_consent: 'analytics', veneer_visitor: visitor },
    })
    expect(r.body).toContain('Personalization: <span class="off">off</span> · Analytics: <span class="on">on</span>')
    expect(r.body).not.toContain('Cart adds')
    expect(textOf(r.body, 'segments')).not.toContain('hesitant')
  })
})

describe('POST /__veneer/preferences', () => {
  beforeAll(async () => {
    await seedRuleset(demo)
  })

  it('withdraws personalization: veneer_consent readable by the CMP, visitor cookie deleted, 303 back', async () => {
    const token = await formTokenFrom()
    const r = await postPrefs({ token, action: 'save', analytics: 'on' })
    expect(r.res.status).toBe(303)
    expect(r.res.headers.get('location')).toBe('/__veneer/preferences?done=saved')
    expect(r.res.headers.get('cache-control')).toBe('private, no-store')
    const consent = r.setCookies.find((s) => s.startsWith('veneer_consent=')) ?? ''
    expect(consent).toMatch(/^veneer_consent=analytics; Max-Age=15552000; Path=\/; Secure; SameSite=Lax$/)
    expect(r.setCookies).toContainEqual(expect.stringMatching(/^veneer_visitor=; Max-Age=0; Path=\/; HttpOnly/))
    const after = await send('/__veneer/preferences?done=saved', { cookies: { veneer_consent: 'analytics' } })
    expect(after.body).toContain('Your choices are saved.')
    expect(after.body).toContain('your saved choice')
  })

  it('grants both with one button, and refuses both with one button', async () => {
    const token = await formTokenFrom()
    expect((await postPrefs({ token, action: 'accept-all' })).setCookies).toEqual([
      expect.stringMatching(/^veneer_consent=personalization,analytics; /),
    ])
    const refused = await postPrefs({ token, action: 'refuse-all' })
    expect(refused.setCookies.map((s) => s.split(';')[0])).toEqual(['veneer_consent=none', 'veneer_visitor='])
  })

  it('forget me clears every Veneer cookie', async () => {
    const token = await formTokenFrom()
    const r = await postPrefs({ token, action: 'forget' })
    expect(r.res.status).toBe(303)
    expect(r.res.headers.get('location')).toBe('/__veneer/preferences?done=forgotten')
    expect(r.setCookies.map((s) => s.split(';').slice(0, 2).join(';'))).toEqual([
      'veneer_consent=; Max-Age=0',
      'veneer_visitor=; Max-Age=0',
      'veneer_profile=; Max-Age=0',
      'veneer_qa=; Max-Age=0',
    ])
  })

  it.each([
    ['no Sec-Fetch-Site and no Origin', {}],
    ['a cross-site post', { 'sec-fetch-site': 'cross-site' }],
    ['a same-site (other subdomain) post', { 'sec-fetch-site': 'same-site' }],
    ['another Origin (older browsers)', { origin: 'https://evil.example' }],
  ])('refuses %s with 403 and sets nothing', async (_what, headers) => {
    const token = await formTokenFrom()
    const r = await postPrefs({ token, action: 'accept-all' }, headers)
    expect(r.res.status).toBe(403)
    expect(r.setCookies).toEqual([])
  })

  it('accepts a matching Origin when Sec-Fetch-Site is absent', async () => {
    const token = await formTokenFrom()
    const r = await postPrefs({ token, action: 'accept-all' }, { origin: 'https://shop.example' })
    expect(r.res.status).toBe(303)
  })

  it.each([
    ['no token', undefined],
    ['a forged token', `${Math.floor(Date.now() / 1000)}.default.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`],
    ['a stale token', 'stale'],
    ['garbage', '...'],
  ])('refuses %s', async (what, token) => {
    let t = token
    if (what === 'a stale token') {
      const { formToken } = await import('../../src/consent/csrf')
      t = await formToken(testEnv.VISITOR_SECRET, Math.floor(Date.now() / 1000) - 3 * 3600)
    }
    const fields: Record<string, string> = { action: 'accept-all' }
    if (t !== undefined) fields.token = t
    const r = await postPrefs(fields)
    expect(r.res.status).toBe(403)
    expect(r.setCookies).toEqual([])
  })
})

describe('after withdrawal the pages are generic again', () => {
  beforeAll(async () => {
    await seedRuleset(demo)
  })

  it('shows no hesitant offer and sets no cookie once veneer_consent says so', async () => {
    const visitor = await hesitantVisitor()
    const before = await send('/products/jacket', { cookies: { veneer_visitor: visitor } })
    expect(before.body).toContain('Shipping is on us')
    const token = await formTokenFrom({ veneer_visitor: visitor })
    const saved = await postPrefs({ token, action: 'refuse-all' }, SAME_ORIGIN, { veneer_visitor: visitor })
    const after = await send('/products/jacket', { cookies: { veneer_consent: 'none', veneer_visitor: visitor } })
    expect(saved.res.status).toBe(303)
    expect(after.body).not.toContain('Shipping is on us')
    expect(after.res.headers.get('x-veneer')).toBe('generic')
  })
})
