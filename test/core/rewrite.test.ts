import { describe, expect, it } from 'vitest'
import { rewriterFor } from '../../src/rewrite/apply'
import type { RewritePlan } from '../../src/rewrite/plan'
import { escapeHtml } from '../../src/rewrite/template'
import type { RulesetInput } from '../../src/rules/schema'
import { PAGE, ruleset, rulesKv, run } from '../helpers'

type Op = NonNullable<RulesetInput['placements']>[number]['variants'][number]['ops'][number]

async function apply(ops: Op[], url = 'https://shop.example/', html = PAGE) {
  const kv = await rulesKv(
    ruleset({
      placements: [{ id: 'p', paths: ['/*'], selector: '#hero h1', variants: [{ id: 'v', ops }], rules: [{ variant: 'v' }] }],
    }),
  )
  const { origin } = await import('../helpers')
  return (await run(url, { kv, app: { fetchOrigin: origin(html).fetchOrigin } })).text
}

describe('operations (SPEC 4.3)', () => {
  it.each<[string, Op, string]>([
    ['setText', { op: 'setText', value: 'A & <B>' }, '<h1>A &amp; &lt;B&gt;</h1>'],
    ['setHtml', { op: 'setHtml', value: 'A <em>B</em>' }, '<h1>A <em>B</em></h1>'],
    ['replace', { op: 'replace', value: '<h2>New</h2>' }, '<section id="hero"><h2>New</h2><p'],
    ['before', { op: 'before', value: '<hr>' }, '<section id="hero"><hr><h1>Everyday gear.</h1>'],
    ['after', { op: 'after', value: '<hr>' }, '<h1>Everyday gear.</h1><hr><p'],
    ['prepend', { op: 'prepend', value: '<i>New:</i> ' }, '<h1><i>New:</i> Everyday gear.</h1>'],
    ['append', { op: 'append', value: ' <i>now</i>' }, '<h1>Everyday gear. <i>now</i></h1>'],
    ['remove', { op: 'remove' }, '<section id="hero"><p class="sub">'],
    ['setAttr', { op: 'setAttr', name: 'data-v', value: 'x' }, '<h1 data-v="x">'],
    ['removeAttr', { op: 'removeAttr', name: 'class', selector: '#promo' }, '<div id="promo">Free returns.</div>'],
    ['addClass', { op: 'addClass', value: 'hot', selector: '#promo' }, '<div id="promo" class="bar hot">'],
    ['removeClass', { op: 'removeClass', value: 'bar', selector: '#promo' }, '<div id="promo" class="">'],
  ])('%s', async (_name, op, expected) => {
    expect(await apply([op])).toContain(expected)
  })

  it('applies several operations in order, each with its own selector', async () => {
    const out = await apply([
      { op: 'setText', value: 'One' },
      { op: 'setText', value: 'Two', selector: '#greeting' },
      { op: 'setAttr', name: 'href', value: '/sale', selector: 'a#cta' },
    ])
    expect(out).toContain('<h1>One</h1>')
    expect(out).toContain('<p id="greeting">Two</p>')
    expect(out).toContain('<a id="cta" href="/sale" title="Shop">')
  })

  it('applies to every element the selector matches', async () => {
    const html = '<ul><li>a</li><li>b</li></ul>'
    const kv = await rulesKv(
      ruleset({
        placements: [
          {
            id: 'p',
            paths: ['/*'],
            selector: 'li',
            variants: [{ id: 'v', ops: [{ op: 'addClass', value: 'x' }] }],
            rules: [{ variant: 'v' }],
          },
        ],
      }),
    )
    const { origin } = await import('../helpers')
    expect((await run('https://s/', { kv, app: { fetchOrigin: origin(html).fetchOrigin } })).text).toBe(
      '<ul><li class="x">a</li><li class="x">b</li></ul>',
    )
  })
})

describe('placeholders are escaped', () => {
  const evil = '<script>alert(1)</script>"\'&'
  const url = `https://shop.example/?q=${encodeURIComponent(evil)}`

  it('in setHtml: the author markup stays, the attribute value is HTML-escaped', async () => {
    const out = await apply([{ op: 'setHtml', value: '<b>You searched:</b> {{request.query.q}}' }], url)
    expect(out).toContain('<h1><b>You searched:</b> &lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;</h1>')
    expect(out).not.toContain('<script>alert(1)')
  })

  it('in setText', async () => {
    const out = await apply([{ op: 'setText', value: 'Q: {{request.query.q}}' }], url)
    expect(out).toContain('<h1>Q: &lt;script&gt;alert(1)&lt;/script&gt;')
    expect(out).not.toContain('<script>alert(1)')
  })

  it('in setAttr: the value cannot break out of the attribute', async () => {
    const out = await apply([{ op: 'setAttr', name: 'title', value: 'q={{request.query.q}}' }], url)
    expect(out).toMatch(/<h1 title="q=&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;&#39;&amp;">/)
  })

  it('missing attributes render as empty text', async () => {
    expect(await apply([{ op: 'setText', value: '[{{profile.name}}]' }])).toContain('<h1>[]</h1>')
  })

  it('escapeHtml covers the five significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;')
  })
})

describe('a failing handler leaves its element as it was', () => {
  it('and the rest of the page is delivered whole', async () => {
    const plan: RewritePlan = new Map([
      ['h1', [{ op: 'setAttr', name: 'bad name', value: 'x' }]], // the runtime rejects this name
      ['#greeting', [{ op: 'setText', value: 'Still rewritten' }]],
    ])
    const out = await rewriterFor(plan)
      .transform(new Response(PAGE, { headers: { 'content-type': 'text/html' } }))
      .text()
    expect(out).toContain('<h1>Everyday gear.</h1>')
    expect(out).toContain('<p id="greeting">Still rewritten</p>')
    expect(out).toContain('</body></html>')
  })

  it('content operations on void elements are skipped, not fatal', async () => {
    const plan: RewritePlan = new Map([
      [
        'img',
        [
          { op: 'setText', value: 'x' },
          { op: 'setAttr', name: 'alt', value: 'A' },
        ],
      ],
    ])
    const out = await rewriterFor(plan)
      .transform(new Response('<p><img src="a.png"></p><p>end</p>', { headers: { 'content-type': 'text/html' } }))
      .text()
    expect(out).toBe('<p><img src="a.png" alt="A"></p><p>end</p>')
  })
})
