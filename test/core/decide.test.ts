import { describe, expect, it } from 'vitest'
import { buildContext, contextualContext } from '../../src/context/build'
import { decide } from '../../src/decide/decide'
import type { DecideHooks } from '../../src/decide/types'
import { compileRuleset } from '../../src/rules/compile'
import { CF } from '../helpers'

const compiled = compileRuleset({
  segments: [
    { id: 'us', when: { 'geo.country': 'US' } },
    { id: 'late', when: { 'time.hour': { $gte: 18 } } },
  ],
  placements: [
    {
      id: 'hero',
      paths: ['/', '/home'],
      selector: 'h1',
      variants: [
        { id: 'a', ops: [] },
        { id: 'b', ops: [] },
      ],
      rules: [
        { segment: 'late', variant: 'b' },
        { segment: 'us', experiment: { id: 'exp', split: { control: 50, a: 50 } } },
        { when: { 'request.query.force': 'a' }, variant: 'a' },
      ],
    },
    { id: 'elsewhere', paths: ['/other'], selector: 'h1', variants: [], rules: [] },
  ],
})
if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues))
const ruleset = compiled.ruleset

function ctxAt(iso: string, url = 'https://s.example/') {
  const req = new Request(url, { cf: CF.newYork } as RequestInit)
  return buildContext(contextualContext(req, new Date(iso)), { consent: { personalization: true, analytics: true, gpc: false } })
}

describe('decide (SPEC 4.4): override › holdout › first matching rule › control', () => {
  const morning = '2026-11-22T14:00:00Z' // 09:00 in New York
  const evening = '2026-11-23T00:30:00Z' // 19:30 in New York

  it('takes the first matching rule, in order', () => {
    const d = decide(ruleset, ctxAt(evening), '/')
    expect(d.segments).toEqual(['us', 'late'])
    expect(d.placements).toEqual([{ placement: 'hero', variant: 'b', reason: { kind: 'rule', rule: 0 } }])
  })

  it('only decides placements whose paths match', () => {
    expect(decide(ruleset, ctxAt(evening), '/other').placements.map((p) => p.placement)).toEqual(['elsewhere'])
    expect(decide(ruleset, ctxAt(evening), '/nowhere').placements).toEqual([])
  })

  it('an experiment rule without the experiment layer shows control and says why', () => {
    const d = decide(ruleset, ctxAt(morning), '/')
    expect(d.placements[0]).toMatchObject({
      variant: 'control',
      reason: { kind: 'experiment-skipped', rule: 1, experiment: 'exp' },
    })
  })

  it('an experiment that lets the visitor fall through leaves the decision to the next rule', () => {
    const hooks: DecideHooks = { assign: () => ({ enter: false, why: 'traffic', fallThrough: true }) }
    const d = decide(ruleset, ctxAt(morning, 'https://s.example/?force=a'), '/', hooks)
    expect(d.placements[0]).toEqual({ placement: 'hero', variant: 'a', reason: { kind: 'rule', rule: 2 } })
  })

  it('the holdout shows control everywhere, and a QA override beats the holdout', () => {
    const held = decide(ruleset, ctxAt(evening), '/', { holdout: true })
    expect(held).toMatchObject({ holdout: true, placements: [{ variant: 'control', reason: { kind: 'holdout' } }] })
    const forced = decide(ruleset, ctxAt(evening), '/', { holdout: true, override: () => ({ variant: 'a', by: 'placement' }) })
    expect(forced.placements[0]).toEqual({ placement: 'hero', variant: 'a', reason: { kind: 'override', by: 'placement' } })
  })

  it('an override naming a variant the placement does not have is ignored', () => {
    const d = decide(ruleset, ctxAt(evening), '/', { override: () => ({ variant: 'ghost', by: 'placement' }) })
    expect(d.placements[0]?.reason.kind).toBe('rule')
  })

  it('no matching rule: control', () => {
    const d = decide(ruleset, { ...ctxAt(morning), geo: {} }, '/') // not US, not evening
    expect(d.placements[0]).toEqual({ placement: 'hero', variant: 'control', reason: { kind: 'default' } })
  })
})
