import { describe, expect, it } from 'vitest'
import { pickArm } from '../../src/experiments/bucket'
import { hashKey, murmur3, unitHash } from '../../src/experiments/hash'

describe('murmur3 (x86, 32-bit)', () => {
  it('matches the reference implementation on its well-known vectors', () => {
    expect(murmur3('')).toBe(0)
    expect(murmur3('', 1)).toBe(0x514e28b7)
    expect(murmur3('test')).toBe(0xba6bd213)
    expect(murmur3('Hello, world!')).toBe(0xc0363e43)
    expect(murmur3('Hello, world!', 1234)).toBe(0xfaf6cdb3)
    expect(murmur3('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723)
  })
})

// The published test vectors of docs/experiments.md: key → hash → bucket → variant.
const VECTORS: [visitor: string, hex: string, bucket: number, split50: string, split90: string][] = [
  ['v-0001', '40465897', 0.2510733956005424, 'add-to-bag', 'control'],
  ['v-0002', 'ceebe6c4', 0.808287070132792, 'control', 'control'],
  ['v-0003', '144003a7', 0.07910178019665182, 'add-to-bag', 'add-to-bag'],
  ['visitor-42', '430ec96e', 0.26194437919184566, 'add-to-bag', 'control'],
  ['3f2c9a1e-8b7d-4c6e-9f10-2a3b4c5d6e7f', 'd4e143a7', 0.8315622599329799, 'control', 'control'],
  ['b7e1c0de-1234-4abc-8def-0123456789ab', '114ee4b0', 0.06761006638407707, 'add-to-bag', 'add-to-bag'],
  ['a', 'af7455f4', 0.685368892736733, 'control', 'control'],
  ['Zoë', '01920fa0', 0.0061349645256996155, 'add-to-bag', 'add-to-bag'],
]

describe('published bucketing vectors', () => {
  it.each(VECTORS)('assign:cart-button-copy:%s', (visitor, hex, bucket, split50, split90) => {
    const key = hashKey('assign', 'cart-button-copy', visitor)
    expect(key).toBe(`assign:cart-button-copy:${visitor}`)
    expect(murmur3(key).toString(16).padStart(8, '0')).toBe(hex)
    expect(unitHash('assign', 'cart-button-copy', visitor)).toBe(bucket)
    expect(pickArm({ control: 50, 'add-to-bag': 50 }, bucket)).toBe(split50)
    // JSON key order does not matter: arms are taken in ascending id order.
    expect(pickArm({ 'add-to-bag': 10, control: 90 }, bucket)).toBe(split90)
  })

  it('publishes the traffic, layer and holdout keys too', () => {
    expect(unitHash('traffic', 'cart-button-copy', 'v-0001')).toBe(0.09206387167796493)
    expect(unitHash('layer', 'checkout-tests', 'v-0001')).toBe(0.09661798528395593)
    expect(unitHash('holdout', 'global', 'v-0001')).toBe(0.37694905884563923)
  })
})

describe('pickArm', () => {
  it('gives consecutive ranges by weight and skips zero weights', () => {
    const split = { control: 1, a: 2, z: 0, b: 1 } // a [0,.5) b [.5,.75) control [.75,1)
    expect(pickArm(split, 0)).toBe('a')
    expect(pickArm(split, 0.4999)).toBe('a')
    expect(pickArm(split, 0.5)).toBe('b')
    expect(pickArm(split, 0.75)).toBe('control')
    expect(pickArm(split, 0.999999999)).toBe('control')
    expect(pickArm({ control: 0 }, 0.3)).toBeUndefined()
  })
})
