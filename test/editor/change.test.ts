import { describe, expect, it } from 'vitest'
import { applyChange, parseChangeForm, type EditorChange } from '../../src/editor/change'
import { validateDocument } from '../../src/admin/validate'
import { formChoices } from '../../src/qa/form'
import { demoRuleset } from '../admin/helpers'

const base: EditorChange = {
  path: '/',
  selector: 'h1',
  op: 'setText',
  value: 'Hallo!',
  placement: { existing: 'home-hero' },
  variant: 'editor-de',
  audience: { segment: 'germany' },
}

describe('parseChangeForm', () => {
  it('reads a complete form', () => {
    const r = parseChangeForm({
      path: '/',
      selector: '#hero h1',
      op: 'setAttr',
      name: 'title',
      value: 'Hi {{geo.city}}',
      placement: '__new',
      newPlacement: 'hero-title',
      variant: 'v1',
      audience: 'everyone',
    })
    expect(r).toEqual({
      ok: true,
      change: {
        path: '/',
        selector: '#hero h1',
        op: 'setAttr',
        name: 'title',
        value: 'Hi {{geo.city}}',
        placement: { create: 'hero-title' },
        variant: 'v1',
        audience: { everyone: true },
      },
    })
  })

  it('reports every problem in words, and refuses selectors HTMLRewriter does not support', () => {
    const r = parseChangeForm({ path: 'x', selector: 'h1 + p', op: 'explode', placement: '', variant: 'control', audience: '' })
    expect(r.ok).toBe(false)
    const errors = r.ok ? [] : r.errors
    expect(errors).toEqual([
      'The page path must start with "/".',
      'Selector: sibling combinators ("+", "~") are not supported by HTMLRewriter.',
      'Choose an operation.',
      'Choose a placement, or a new one.',
      'Name the variant: letters, digits, "-", "_", "." or ":" ("control" is reserved).',
      'Choose who sees the variant.',
    ])
    const cls = parseChangeForm({
      ...{ path: '/', selector: 'h1', placement: 'p', variant: 'v', audience: 'everyone' },
      op: 'addClass',
      value: 'two words',
    })
    expect(cls.ok ? [] : cls.errors).toEqual(['Give one class name, without spaces.'])
  })
})

describe('applyChange', () => {
  it('adds the variant to the existing placement, its rule first, with its own selector, and the result validates', () => {
    const doc = demoRuleset()
    const r = applyChange(doc, base)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const hero = (r.doc.placements as any[]).find((p) => p.id === 'home-hero')
    expect(hero.variants.at(-1)).toEqual({ id: 'editor-de', ops: [{ op: 'setText', value: 'Hallo!', selector: 'h1' }] })
    expect(hero.rules[0]).toEqual({ segment: 'germany', variant: 'editor-de' })
    expect(hero.rules).toHaveLength(4)
    expect(r.summary).toBe('home-hero: new variant editor-de (setText on h1) for segment germany')
    expect(validateDocument(r.doc).ok).toBe(true)
    // The input document is untouched.
    expect(doc.placements[0].variants).toHaveLength(3)
  })

  it("leaves out the op's selector when it is the placement's own, and updates a variant saved again", () => {
    const once = applyChange(demoRuleset(), { ...base, selector: '#hero h1' })
    if (!once.ok) throw new Error('not applied')
    const twice = applyChange(once.doc, { ...base, selector: '#hero h1', value: 'Zweiter Versuch' })
    if (!twice.ok) throw new Error('not applied')
    const hero = (twice.doc.placements as any[]).find((p) => p.id === 'home-hero')
    expect(hero.variants.filter((v: any) => v.id === 'editor-de')).toEqual([
      { id: 'editor-de', ops: [{ op: 'setText', value: 'Zweiter Versuch' }] },
    ])
    expect(hero.rules.filter((r: any) => r.variant === 'editor-de')).toHaveLength(1)
    expect(twice.summary).toContain('changed variant editor-de')
  })

  it('creates a new placement on the page path; "everyone" goes last, an experiment first', () => {
    const r = applyChange(demoRuleset(), {
      ...base,
      selector: '#greeting',
      placement: { create: 'greeting-2' },
      audience: { everyone: true },
    })
    if (!r.ok) throw new Error('not applied')
    const pl = (r.doc.placements as any[]).at(-1)
    expect(pl).toEqual({
      id: 'greeting-2',
      paths: ['/'],
      selector: '#greeting',
      variants: [{ id: 'editor-de', ops: [{ op: 'setText', value: 'Hallo!' }] }],
      rules: [{ variant: 'editor-de' }],
    })
    const exp = applyChange(demoRuleset(), { ...base, experiment: 'hero-test' })
    if (!exp.ok) throw new Error('not applied')
    const hero = (exp.doc.placements as any[]).find((p) => p.id === 'home-hero')
    expect(hero.rules[0]).toEqual({
      segment: 'germany',
      experiment: { id: 'hero-test', split: { control: 50, 'editor-de': 50 } },
    })
    expect(validateDocument(exp.doc).ok).toBe(true)
  })

  it('refuses unknown placements and segments, and a new placement whose id is taken', () => {
    expect(applyChange(demoRuleset(), { ...base, placement: { existing: 'nope' } })).toEqual({
      ok: false,
      errors: ['There is no placement "nope".'],
    })
    expect(applyChange(demoRuleset(), { ...base, audience: { segment: 'martians' } })).toEqual({
      ok: false,
      errors: ['There is no segment "martians".'],
    })
    const taken = applyChange(demoRuleset(), { ...base, placement: { create: 'home-hero' } })
    expect(taken.ok).toBe(false)
  })
})

describe('the QA form choices', () => {
  it('turns the selects into the override and context texts, leaving out empty choices', () => {
    const q = new URLSearchParams(
      'choices=1&o.home-hero=us&o.promo-bar=&o.cart-button-copy=add-to-bag&c.geo.country=DE&c.device.type=&c.time.hour=20&more=profile.tier%3Dgold',
    )
    expect(formChoices(q)).toEqual({
      override: 'home-hero=us, cart-button-copy=add-to-bag',
      context: 'geo.country=DE; time.hour=20; profile.tier=gold',
    })
    expect(formChoices(new URLSearchParams('o.home-hero=us'))).toBeUndefined() // not the form
    // A value cannot smuggle in another entry.
    expect(formChoices(new URLSearchParams('choices=1&o.home-hero=us,%20promo-bar%3Dtablet'))?.override).toBe('')
  })
})
