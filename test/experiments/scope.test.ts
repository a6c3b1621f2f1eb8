import { describe, expect, it } from 'vitest'
import { layerIndex } from '../../src/experiments/layers'
import { compile, decideFor, experimentRuleset, state, variantOf, visitorIds } from './helpers'

const N = 10_000
const ids = visitorIds(N, 0x1234567)

describe('traffic', () => {
  it('lets in traffic% of matching visitors (±1.5 points); the others fall through to the next rule', () => {
    const rs = compile({
      placements: [
        {
          id: 'hero',
          paths: ['/*'],
          selector: 'h1',
          variants: [
            { id: 'b', ops: [] },
            { id: 'fallback', ops: [] },
          ],
          rules: [{ experiment: { id: 't30', split: { control: 50, b: 50 }, traffic: 30 } }, { variant: 'fallback' }],
        },
      ],
    })
    let entered = 0
    for (const id of ids) {
      const p = decideFor(rs, state(id)).placements[0]
      if (p?.reason.kind === 'experiment') entered++
      else expect(p).toMatchObject({ variant: 'fallback', reason: { kind: 'rule', rule: 1 } })
    }
    expect(Math.abs(entered / N - 0.3)).toBeLessThanOrEqual(0.015)
  })

  it('raising traffic keeps everyone who was in (entry is monotone in traffic)', () => {
    const low = experimentRuleset({ id: 'ramp', split: { control: 50, b: 50 }, traffic: 10 })
    const high = experimentRuleset({ id: 'ramp', split: { control: 50, b: 50 }, traffic: 50 })
    for (const id of ids.slice(0, 3000)) {
      const a = decideFor(low, state(id)).placements[0]
      if (a?.reason.kind !== 'experiment') continue
      const b = decideFor(high, state(id)).placements[0]
      expect(b?.reason.kind).toBe('experiment')
      expect(b?.variant).toBe(a.variant)
    }
  })
})

describe('start and end', () => {
  const rs = compile({
    placements: [
      {
        id: 'hero',
        paths: ['/*'],
        selector: 'h1',
        variants: [
          { id: 'b', ops: [] },
          { id: 'later', ops: [] },
        ],
        rules: [
          { experiment: { id: 'xmas', split: { b: 1 }, start: '2026-12-01', end: '2026-12-27T00:00:00Z' } },
          { variant: 'later' },
        ],
      },
    ],
  })

  it('does not take anyone before start, nor at or after end, even with a sticky assignment', () => {
    for (const at of ['2026-11-30T23:59:59Z', '2026-12-27T00:00:00Z', '2027-01-05T10:00:00Z']) {
      const d = decideFor(rs, state('v-0001', { xmas: 'b' }), '/', new Date(at))
      expect(d.placements[0]).toMatchObject({ variant: 'later', reason: { kind: 'rule', rule: 1 } })
    }
  })

  it('takes visitors while running', () => {
    for (const at of ['2026-12-01T00:00:00Z', '2026-12-26T23:59:59Z']) {
      const d = decideFor(rs, state('v-0001'), '/', new Date(at))
      expect(d.placements[0]).toMatchObject({ variant: 'b', reason: { kind: 'experiment', experiment: 'xmas' } })
    }
  })
})

describe('layers', () => {
  const layered = (layerOfThird = 'checkout') =>
    compile({
      placements: [
        {
          id: 'p1',
          paths: ['/*'],
          selector: 'h1',
          variants: [{ id: 'b', ops: [] }],
          rules: [{ experiment: { id: 'ex-a', split: { control: 50, b: 50 }, layer: 'checkout' } }],
        },
        {
          id: 'p2',
          paths: ['/*'],
          selector: 'h2',
          variants: [{ id: 'b', ops: [] }],
          rules: [{ experiment: { id: 'ex-b', split: { control: 50, b: 50 }, layer: 'checkout' } }],
        },
        {
          id: 'p3',
          paths: ['/*'],
          selector: 'h3',
          variants: [{ id: 'b', ops: [] }],
          rules: [{ experiment: { id: 'ex-c', split: { control: 50, b: 50 }, layer: layerOfThird } }],
        },
        {
          id: 'p4',
          paths: ['/*'],
          selector: 'h4',
          variants: [{ id: 'b', ops: [] }],
          rules: [{ experiment: { id: 'free', split: { control: 50, b: 50 } } }],
        },
      ],
    })

  it('puts no visitor in two experiments of one layer; the layer is split equally among its experiments', () => {
    const rs = layered()
    expect(
      layerIndex(rs)
        .get('checkout')
        ?.map((m) => m.experiment.id),
    ).toEqual(['ex-a', 'ex-b', 'ex-c'])
    const per = new Map<string, number>()
    let inFree = 0
    for (const id of ids) {
      const d = decideFor(rs, state(id))
      const entered = d.placements.filter((p) => p.reason.kind === 'experiment' && p.reason.layer === 'checkout')
      expect(entered.length).toBe(1)
      const only = entered[0]?.experiment as string
      per.set(only, (per.get(only) ?? 0) + 1)
      for (const p of d.placements) {
        if (p.reason.kind === 'experiment-skipped') throw new Error('layer exclusion must fall through, not skip')
      }
      if (d.placements.find((p) => p.placement === 'p4')?.reason.kind === 'experiment') inFree++
    }
    for (const id of ['ex-a', 'ex-b', 'ex-c']) expect(Math.abs((per.get(id) ?? 0) / N - 1 / 3)).toBeLessThanOrEqual(0.015)
    expect(inFree).toBe(N) // an experiment outside the layer is unaffected
  })

  it('keeps a sticky layer member even when the layer slices change', () => {
    const rs = layered('elsewhere') // ex-c leaves the layer: slices are now halves, not thirds
    for (const id of ids.slice(0, 1000)) {
      const d = decideFor(rs, state(id, { 'ex-a': 'b' }))
      const inLayer = d.placements.filter((p) => p.reason.kind === 'experiment' && p.reason.layer === 'checkout')
      expect(inLayer.map((p) => [p.experiment, p.variant])).toEqual([['ex-a', 'b']])
    }
  })
})

describe('global holdout', () => {
  it('holds out holdoutPercent of consenting visitors (±1 point): control everywhere, even fixed rules', () => {
    const rs = compile({
      settings: { holdoutPercent: 5 },
      placements: [
        {
          id: 'hero',
          paths: ['/*'],
          selector: 'h1',
          variants: [{ id: 'b', ops: [] }],
          rules: [{ experiment: { id: 'e', split: { control: 50, b: 50 } } }],
        },
        { id: 'fixed', paths: ['/*'], selector: 'h2', variants: [{ id: 'x', ops: [] }], rules: [{ variant: 'x' }] },
      ],
    })
    let held = 0
    for (const id of ids) {
      const d = decideFor(rs, state(id))
      if (!d.holdout) {
        expect(variantOf(d, 'fixed')).toBe('x')
        continue
      }
      held++
      expect(d.placements.every((p) => p.variant === 'control' && p.reason.kind === 'holdout')).toBe(true)
    }
    expect(Math.abs(held / N - 0.05)).toBeLessThanOrEqual(0.01)
  })

  it('is the same visitors on every request, independent of experiment arms', () => {
    const rs = experimentRuleset({ id: 'e', split: { control: 50, b: 50 } }, ['b'], { settings: { holdoutPercent: 20 } })
    const plain = experimentRuleset({ id: 'e', split: { control: 50, b: 50 } }, ['b'])
    let heldB = 0,
      held = 0
    for (const id of ids) {
      const h = decideFor(rs, state(id)).holdout
      expect(decideFor(rs, state(id), '/', new Date('2027-03-01T08:00:00Z')).holdout).toBe(h)
      if (h) {
        held++
        if (variantOf(decideFor(plain, state(id))) === 'b') heldB++
      }
    }
    expect(Math.abs(heldB / held - 0.5)).toBeLessThanOrEqual(0.04)
  })
})
