import { describe, expect, it } from 'vitest'
import { decide } from '../../src/decide/decide'
import { experimentHooks } from '../../src/experiments/hooks'
import { unitHash } from '../../src/experiments/hash'
import { traceOf } from '../../src/pipeline/personalize'
import { compile, context, state, AT } from '../experiments/helpers'

const rs = compile({
  settings: { holdoutPercent: 10 },
  segments: [{ id: 'everyone', when: { 'request.path': { $startsWith: '/' } } }],
  placements: [
    {
      id: 'hero',
      paths: ['/*'],
      selector: 'h1',
      variants: [{ id: 'b', ops: [] }],
      rules: [{ segment: 'everyone', experiment: { id: 'copy', split: { control: 50, b: 50 }, layer: 'home' } }],
    },
    { id: 'bar', paths: ['/*'], selector: '#bar', variants: [{ id: 'x', ops: [] }], rules: [{ variant: 'x' }] },
  ],
})

function traceFor(visitorId: string, assignments?: Record<string, string>) {
  const s = state(visitorId, assignments)
  const ctx = context(s)
  return JSON.parse(
    traceOf(decide(rs, ctx, '/', experimentHooks(rs, ctx, s, AT)), {
      overrides: new Map(),
      context: new Map([['time.hour', '20']]),
      ignored: ['context foo'],
    }),
  )
}

describe('x-veneer-trace', () => {
  it('says per placement the variant, the rule, the experiment, its bucket, stickiness and layer', () => {
    const id = 'v-0002'
    expect(unitHash('holdout', 'global', id)).toBeGreaterThanOrEqual(0.1) // not held out
    const t = traceFor(id)
    expect(t.segments).toEqual(['everyone'])
    expect(t.holdout).toBe(false)
    expect(t.placements[0]).toEqual({
      placement: 'hero',
      variant: unitHash('assign', 'copy', id) < 0.5 ? 'b' : 'control',
      reason: {
        kind: 'experiment',
        rule: 0,
        experiment: 'copy',
        bucket: unitHash('assign', 'copy', id),
        sticky: false,
        layer: 'home',
      },
    })
    expect(t.placements[1]).toEqual({ placement: 'bar', variant: 'x', reason: { kind: 'rule', rule: 0 } })
    expect(t.simulated).toEqual({ 'time.hour': 20 })
    expect(t.ignored).toEqual(['context foo'])
    expect(traceFor(id, { copy: 'b' }).placements[0].reason).toMatchObject({ sticky: true })
  })

  it('marks the holdout', () => {
    const held = Array.from({ length: 200 }, (_, i) => `h-${i}`).find((id) => unitHash('holdout', 'global', id) < 0.1) as string
    const t = traceFor(held)
    expect(t.holdout).toBe(true)
    expect(t.placements.map((p: { reason: unknown }) => p.reason)).toEqual([{ kind: 'holdout' }, { kind: 'holdout' }])
  })
})
