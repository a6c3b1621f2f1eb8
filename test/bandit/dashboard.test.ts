import { jsx } from 'hono/jsx'
import { describe, expect, it } from 'vitest'
import { BanditPanel } from '../../src/admin/dashboard/results'
import type { BanditResults } from '../../src/bandit/results'

const bandit: BanditResults = {
  experiment: 'checkout-button-bandit',
  goal: 'purchase',
  control: 'control',
  phase: 'adaptive',
  settings: { burnIn: 100, floor: 5, every: 60 },
  weightsInForce: { from: 1_700_000_000_000, weights: { control: 10, 'pay-securely': 80, 'complete-purchase': 10 } },
  periods: [],
  periodsUsed: 3,
  periodsSkipped: 0,
  arms: [arm('control', 10, 0.1, null), arm('pay-securely', 80, 0.125, 0.025), arm('complete-purchase', 10, 0.095, -0.005)],
  srm: { pValue: 0.0001, mismatch: true } as BanditResults['srm'],
  notes: ['Rates are weighted per period.'],
}

function arm(name: string, weight: number, rate: number, lift: number | null): BanditResults['arms'][number] {
  return {
    arm: name,
    visitors: 1000,
    conversions: Math.round(rate * 1000),
    pooledRate: rate,
    rate,
    se: 0.01,
    ci95: [rate - 0.02, rate + 0.02],
    lift,
    liftCi95: lift === null ? null : [lift - 0.03, lift + 0.03],
    pValue: lift === null ? null : 0.2,
    probabilityBest: name === 'pay-securely' ? 0.91 : 0.045,
    weight,
  }
}

describe('the dashboard shows a bandit in words and figures', () => {
  it('lists each arm with its share now, its period-weighted rate, its lift over control and its chance of being best', async () => {
    const html = String(await jsx(BanditPanel, { bandit }).toString())
    expect(html).toContain('Bandit on purchase (adapting)')
    expect(html).toContain('read these rates, not the pooled ones below')
    expect(html).toMatch(/<td>pay-securely<\/td><td>80.0%<\/td><td>1000<\/td><td>12.50%<\/td>/)
    expect(html).toContain('+2.50 pp')
    expect(html).toContain('91%')
    expect(html).toContain('Sample-ratio mismatch against the weights in force')
    expect(html).toContain('Rates are weighted per period.')
  })

  it('says when the bandit is still in burn-in', async () => {
    const html = String(await jsx(BanditPanel, { bandit: { ...bandit, phase: 'burn-in', srm: null } }).toString())
    expect(html).toContain('still in burn-in')
    expect(html).not.toContain('Sample-ratio mismatch')
  })
})
