import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileRuleset } from '../../src/rules/compile'
import { decide } from '../../src/decide/decide'
import { buildContext, contextualContext } from '../../src/context/build'
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
