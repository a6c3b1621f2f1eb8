import { describe, expect, it } from 'vitest'
import demo from '../../demo/ruleset.json'
import { compileRuleset, compileRulesetText, htmlRewriterSelectorCheck } from '../../src/rules/compile'
import { compileGlobs } from '../../src/rules/glob'
import { selectorProblem } from '../../src/rules/selector'
import { ruleset } from '../helpers'

function issuesOf(input: unknown) {
  const r = compileRuleset(input, { checkSelector: htmlRewriterSelectorCheck })
  return r.ok ? [] : r.issues
}

describe('ruleset validation (SPEC 4)', () => {
  it('accepts the SPEC example shape and the demo ruleset, filling defaults', () => {
    const r = compileRuleset(demo)
    expect(r.ok).toBe(true)
    const minimal = compileRuleset({})
    expect(minimal.ok && minimal.ruleset.settings).toMatchObject({
      budgetMs: 50,
      refreshSeconds: 10,
      include: ['/*'],
      bots: 'generic',
      consent: { default: 'opt-out' },
    })
  })

  it('reports every error with its JSON path, not just the first', () => {
    const issues = issuesOf({
      settings: { budgetMs: -1, bots: 'sometimes' },
      segments: [{ id: 'a', when: { 'geo.country': { $like: 'x' } } }],
      placements: [{ id: 'p', paths: ['products'], selector: '#x', variants: [{ id: 'v', ops: [{ op: 'explode' }] }] }],
    })
    const paths = issues.map((i) => i.path)
    expect(paths).toEqual(
      expect.arrayContaining(['settings.budgetMs', 'settings.bots', 'placements.0.paths.0', 'placements.0.variants.0.ops.0.op']),
    )
    expect(issues.length).toBeGreaterThanOrEqual(4)
  })

  it('checks references: segments, variants, split arms, duplicate ids, reserved control', () => {
    const issues = issuesOf(
      ruleset({
        segments: [
          { id: 'us', when: { 'geo.country': 'US' } },
          { id: 'us', when: {} },
        ],
        placements: [
          {
            id: 'hero',
            paths: ['/'],
            selector: 'h1',
            variants: [
              { id: 'a', ops: [] },
              { id: 'control', ops: [] },
            ],
            rules: [
              { segment: 'nope', variant: 'a' },
              { variant: 'missing' },
              { experiment: { id: 'e1', split: { a: 50, ghost: 50 } } },
            ],
          },
        ],
      }),
    )
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]))
    expect(byPath['segments.1.id']).toMatch(/duplicate segment/)
    expect(byPath['placements.0.variants.1.id']).toMatch(/reserved/)
    expect(byPath['placements.0.rules.0.segment']).toMatch(/unknown segment "nope"/)
    expect(byPath['placements.0.rules.1.variant']).toMatch(/unknown variant "missing"/)
    expect(byPath['placements.0.rules.2.experiment.split.ghost']).toMatch(/unknown variant/)
    // Structural errors come first (references are checked on a well-formed document).
    const shape = issuesOf(
      ruleset({
        placements: [
          {
            id: 'p',
            paths: ['/'],
            selector: 'h1',
            variants: [{ id: 'a', ops: [] }],
            rules: [{ variant: 'a', experiment: { id: 'e2', split: { a: 1 } } }, { segment: 'us' }],
          },
        ],
      }),
    )
    expect(shape.map((i) => [i.path, i.message])).toEqual([
      ['placements.0.rules.0', expect.stringMatching(/exactly one of/)],
      ['placements.0.rules.1', expect.stringMatching(/exactly one of/)],
    ])
  })

  it('rejects regexes the linear-time engine cannot run (backreferences) and unknown placeholders on load', () => {
    const issues = issuesOf(
      ruleset({
        segments: [{ id: 'us', when: { 'request.referrer': { $regex: '(a+)\\1$' } } }],
        placements: [
          {
            id: 'hero',
            paths: ['/'],
            selector: 'h1',
            variants: [{ id: 'us', ops: [{ op: 'setText', value: 'Hi {{visitor.id}} {{weather.today}}' }] }],
            rules: [],
          },
        ],
      }),
    )
    expect(issues.map((i) => i.path)).toEqual([
      'segments.0.when.request.referrer.$regex',
      'placements.0.variants.0.ops.0.value',
      'placements.0.variants.0.ops.0.value',
    ])
  })

  it('rejects selectors HTMLRewriter does not support, in Node and in workerd', () => {
    for (const bad of ['div + p', 'a ~ b', 'a:hover', 'h1, h2', '', 'div >']) expect(selectorProblem(bad)).toBeDefined()
    for (const good of [
      '#hero h1',
      'div.card > a[href^="/p"]',
      'li:nth-child(2n+1)',
      'p:not(.x)',
      '*',
      '[data-x="a b"]',
      'ul > li:first-child',
    ]) {
      expect(selectorProblem(good)).toBeUndefined()
      expect(htmlRewriterSelectorCheck(good)).toBeUndefined()
    }
    expect(
      issuesOf(ruleset({ placements: [{ id: 'p', paths: ['/'], selector: 'a + b', variants: [], rules: [] }] }))[0]?.path,
    ).toBe('placements.0.selector')
  })

  it('reports JSON syntax errors at the root and derives a version when none is given', () => {
    const bad = compileRulesetText('{"settings": ')
    expect(!bad.ok && bad.issues[0]).toMatchObject({ path: '', message: expect.stringMatching(/not valid JSON/) })
    const a = compileRulesetText(JSON.stringify({ segments: [] }))
    const b = compileRulesetText(JSON.stringify({ segments: [{ id: 'x', when: {} }] }))
    expect(a.ok && b.ok && a.ruleset.version !== b.ruleset.version).toBe(true)
    const v = compileRulesetText(JSON.stringify({ version: 42 }))
    expect(v.ok && v.ruleset.version).toBe('42')
  })
})

describe('path globs', () => {
  it('* spans segments, ? is one character, the whole path must match', () => {
    const m = compileGlobs(['/products/*', '/a?c'])
    expect(m('/products/sneakers')).toBe(true)
    expect(m('/products/a/b')).toBe(true)
    expect(m('/productsX')).toBe(false)
    expect(m('/abc')).toBe(true)
    expect(m('/abcd')).toBe(false)
    expect(compileGlobs(['/*'])('/anything/at/all')).toBe(true)
    expect(compileGlobs([])('/')).toBe(false)
    expect(compileGlobs(['/a.b(c)'])('/a.b(c)')).toBe(true)
    expect(compileGlobs(['/a.b'])('/aXb')).toBe(false)
  })
})
