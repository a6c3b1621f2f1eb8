import { describe, expect, it } from 'vitest'
import { compileRuleset } from '../../src/rules/compile'
import { escapeHtml, fillTemplate, isSafeUrl, compileTemplate, type TemplateSink } from '../../src/rewrite/template'
import type { RulesetIssue } from '../../src/rules/errors'
import { origin, ruleset, rulesKv, run } from '../helpers'

const ctx = (q: Record<string, string>) => ({ request: { query: q } })

function compile(value: string, sink: TemplateSink) {
  const issues: RulesetIssue[] = []
  const t = compileTemplate(value, 'p', issues, sink)
  return { t, issues }
}

describe('URL values of placeholders (issue 10, medium)', () => {
  it.each([
    ['https://a.example/x', true],
    ['http://a.example', true],
    ['/relative?x=1', true],
    ['page.html', true],
    ['#top', true],
    ['?q=javascript:x', true],
    ['mailto:a@b.example', true],
    ['tel:+4930123', true],
    ['', true],
    ['javascript:alert(1)', false],
    [' JavaScript:alert(1)', false],
    ['\u0001javascript:alert(1)', false],
    ['java\tscript:alert(1)', false],
    ['java\nscript:alert(1)', false],
    ['data:text/html,<script>', false],
    ['vbscript:x', false],
    ['blob:https://a.example/1', false],
    ['ftp://a.example', false],
  ])('isSafeUrl(%j) is %s', (url, safe) => {
    expect(isSafeUrl(url)).toBe(safe)
  })

  it('setAttr href renders a javascript: value as an empty href, an https one as it is', () => {
    const { t, issues } = compile('{{request.query.next}}', { kind: 'attr', name: 'HREF' })
    expect(issues).toEqual([])
    expect(fillTemplate(t, ctx({ next: 'javascript:alert(1)' }), escapeHtml)).toBe('')
    expect(fillTemplate(t, ctx({ next: 'https://ok.example/?a=1&b=2' }), escapeHtml)).toBe('https://ok.example/?a=1&amp;b=2')
  })

  it('a URL attribute inside HTML is checked as a whole, literal prefix included', () => {
    const { t, issues } = compile('<a href="{{request.query.a}}{{request.query.b}}" title="{{request.query.a}}">x</a>', {
      kind: 'html',
    })
    expect(issues).toEqual([])
    expect(fillTemplate(t, ctx({ a: 'java', b: 'script:alert(1)' }), escapeHtml)).toBe('<a href="" title="java">x</a>')
    expect(fillTemplate(t, ctx({ a: '/p', b: '?x="1"' }), escapeHtml)).toBe('<a href="/p?x=&quot;1&quot;" title="/p">x</a>')
    const fixed = compile('<a href="/search?q={{request.query.q}}">x</a>', { kind: 'html' })
    expect(fillTemplate(fixed.t, ctx({ q: 'javascript:alert(1)' }), escapeHtml)).toBe(
      '<a href="/search?q=javascript:alert(1)">x</a>',
    )
  })

  it.each([
    ['<b onclick="f(\'{{request.query.x}}\')">x</b>'],
    ["<b ONMOUSEOVER='{{request.query.x}}'>x</b>"],
    ['<b style="color:{{request.query.x}}">x</b>'],
    ['<iframe srcdoc="{{request.query.x}}"></iframe>'],
    ['<script>var a = "{{request.query.x}}"</script>'],
    ['<SCRIPT type="module">{{request.query.x}}</SCRIPT>'],
    ['<style>.a{color:{{request.query.x}}}</style>'],
    ['<a href={{request.query.x}}>x</a>'],
    ['<a {{request.query.x}}>x</a>'],
    ['<{{request.query.x}}>'],
    ['</a {{request.query.x}}>'],
    ['<meta http-equiv="refresh" content="0;url={{request.query.x}}">'],
  ])('refuses a placeholder in %s', (html) => {
    expect(compile(html, { kind: 'html' }).issues).toHaveLength(1)
  })

  it.each([
    ['Hello <b>{{geo.city}}</b>'],
    ['<a title="{{geo.city}}" class=\'x {{geo.city}}\'>{{geo.city}}</a>'],
    ['<script>var a = 1</script><p>{{geo.city}}</p>'],
    ['<!-- {{geo.city}} --><textarea>{{geo.city}}</textarea>'],
    ['<img src="/flags/{{geo.country}}.png" alt="{{geo.country}}">'],
  ])('accepts a placeholder in text or a plain quoted attribute: %s', (html) => {
    expect(compile(html, { kind: 'html' }).issues).toEqual([])
  })

  it.each(['onclick', 'OnLoad', 'style', 'srcdoc'])('refuses setAttr %s with a placeholder, accepts it without', (name) => {
    expect(compile('x {{geo.city}}', { kind: 'attr', name }).issues).toHaveLength(1)
    expect(compile('x', { kind: 'attr', name }).issues).toEqual([])
  })

  it('the validator reports the operation path', () => {
    const r = compileRuleset(
      ruleset({
        placements: [
          {
            id: 'p',
            paths: ['/*'],
            selector: 'a',
            variants: [{ id: 'v', ops: [{ op: 'setAttr', name: 'onclick', value: "t('{{request.query.x}}')" }] }],
            rules: [{ variant: 'v' }],
          },
        ],
      }),
    )
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues[0]?.path).toBe('placements.0.variants.0.ops.0.value')
  })

  it('a templated setText or setHtml never fills a <script> or <style> the selector happens to match', async () => {
    const kv = await rulesKv(
      ruleset({
        segments: [],
        placements: [
          {
            id: 'p',
            paths: ['/*'],
            selector: '.x',
            variants: [
              {
                id: 'v',
                ops: [
                  { op: 'setText', value: '{{request.query.q}}' },
                  { op: 'append', value: '<i>{{request.query.q}}</i>' },
                ],
              },
            ],
            rules: [{ variant: 'v' }],
          },
        ],
      }),
    )
    const page = '<html><body><script class="x">var a=1</script><style class="x">p{}</style><p class="x">old</p></body></html>'
    const o = origin(page)
    const r = await run('https://shop.example/?q=alert(1)', { kv, app: { fetchOrigin: o.fetchOrigin } })
    expect(r.text).toContain('<script class="x">var a=1</script><style class="x">p{}</style>')
    expect(r.text).toContain('<p class="x">alert(1)<i>alert(1)</i></p>')
  })
})
