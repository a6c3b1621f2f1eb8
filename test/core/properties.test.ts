import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileRuleset } from '../../src/rules/compile'
import { decide } from '../../src/decide/decide'
import { buildContext, contextualContext } from '../../src/context/build'
import { decodedPath, requestPath, requestUrlPathname } from '../../src/util/path'
import { chunkedBody, origin, ruleset, rulesKv, run } from '../helpers'

const fragment = fc.oneof(
  fc.constantFrom(
    '<h1>',
    '</h1>',
    '<p class="a">',
    '</p>',
    '<div id="hero">',
    '</div>',
    '<br>',
    '<!-- c -->',
    '<a href="/x?a=1&b=2">',
    '</a>',
    '&amp;',
    '€',
    '<script>var x = "<h1>";</script>',
    '<img src=x alt=">">',
  ),
  fc.string({ maxLength: 12 }).map((s) => s.replace(/[<>&]/g, '')),
)
const html = fc.array(fragment, { maxLength: 40 }).map((parts) => `<html><body>${parts.join('')}</body></html>`)

describe('properties', () => {
  it('how the origin chunks a page never changes the personalized result', async () => {
    const kv = await rulesKv(
      ruleset({
        placements: [
          {
            id: 'p',
            paths: ['/*'],
            selector: 'h1',
            variants: [
              {
                id: 'v',
                ops: [
                  { op: 'setText', value: 'T {{geo.city}}' },
                  { op: 'addClass', value: 'x', selector: 'p' },
                ],
              },
            ],
            rules: [{ variant: 'v' }],
          },
        ],
      }),
    )
    await fc.assert(
      fc.asyncProperty(html, fc.integer({ min: 1, max: 50 }), async (page, size) => {
        const whole = await run('https://s.example/', { kv, app: { fetchOrigin: origin(page).fetchOrigin } })
        const chunked = await run('https://s.example/', {
          kv,
          app: {
            fetchOrigin: origin(() => new Response(chunkedBody(page, size), { headers: { 'content-type': 'text/html' } }))
              .fetchOrigin,
          },
        })
        expect(chunked.text).toBe(whole.text)
        expect(whole.res.status).toBe(200)
      }),
      { numRuns: 40 },
    )
  })

  it('a page whose placements match nothing comes back byte-identical', async () => {
    const kv = await rulesKv(
      ruleset({
        placements: [
          {
            id: 'p',
            paths: ['/*'],
            selector: '#nowhere-to-be-found',
            variants: [{ id: 'v', ops: [{ op: 'setText', value: 'X' }] }],
            rules: [{ variant: 'v' }],
          },
        ],
      }),
    )
    await fc.assert(
      fc.asyncProperty(html, async (page) => {
        const r = await run('https://s.example/', { kv, app: { fetchOrigin: origin(page).fetchOrigin } })
        expect(r.text).toBe(page)
      }),
      { numRuns: 30 },
    )
  })

  it('decide never throws, whatever the request looks like', () => {
    const compiled = compileRuleset({
      segments: [
        { id: 'a', when: { 'request.query.x': { $regex: '^[a-z]+$' } } },
        { id: 'b', when: { $or: [{ 'geo.country': { $in: ['DE', 'FR'] } }, { 'request.language': { $startsWith: 'de' } }] } },
        { id: 'c', when: { 'time.hour': { $gte: 18 }, segments: { $contains: 'b' } } },
      ],
      placements: [
        {
          id: 'p',
          paths: ['/*'],
          selector: 'h1',
          variants: [{ id: 'v', ops: [{ op: 'setText', value: '{{request.query.x}}' }] }],
          rules: [
            { segment: 'c', variant: 'v' },
            { when: { 'request.referrerHost': { $contains: 'news' } }, variant: 'v' },
          ],
        },
      ],
    })
    if (!compiled.ok) throw new Error('ruleset')
    fc.assert(
      fc.property(
        fc.webPath(),
        fc.string(),
        fc.string(),
        fc.dictionary(fc.constantFrom('country', 'timezone', 'city', 'isEUCountry'), fc.string()),
        (path, q, lang, cf) => {
          let url: string
          try {
            url = new URL(`https://s.example${path}?x=${encodeURIComponent(q)}`).href
          } catch {
            return
          }
          const headers = new Headers()
          try {
            headers.set('accept-language', lang)
            headers.set('referer', lang)
          } catch {
            /* not a header value */
          }
          const req = new Request(url, { headers, cf } as RequestInit)
          const ctx = buildContext(contextualContext(req), { consent: { personalization: true, analytics: true, gpc: false } })
          const d = decide(compiled.ruleset, ctx, ctx.request.path)
          expect(d.placements).toHaveLength(1)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('the path of a request, read off its URL text', () => {
  it('is what the URL parser gives, for any web URL a request can carry', () => {
    const urls = fc.webUrl({
      validSchemes: ['http', 'https'],
      withQueryParameters: true,
      withFragments: true,
      authoritySettings: { withIPv4: true, withIPv6: true, withPort: true, withUserInfo: true },
    })
    fc.assert(
      fc.property(urls, fc.string(), (u, tail) => {
        const request = new Request(u)
        expect(requestUrlPathname(request.url)).toBe(new URL(request.url).pathname)
        expect(requestPath(request)).toBe(decodedPath(request.url))
        // Whatever a client puts after the host, once the runtime has parsed it.
        let odd: Request
        try {
          odd = new Request(`https://shop.example/${tail}`)
        } catch {
          return
        }
        expect(requestUrlPathname(odd.url)).toBe(new URL(odd.url).pathname)
        expect(requestPath(odd)).toBe(decodedPath(odd.url))
      }),
      { numRuns: 500 },
    )
    for (const u of ['https://h', 'http://h:8080?q=/x', 'https://u:p@h/a/../b/%2F?x#y', 'https://h//a//b', 'https://h/caf%C3%A9'])
      expect(requestPath(new Request(u)), u).toBe(decodedPath(new Request(u).url))
  })
})
