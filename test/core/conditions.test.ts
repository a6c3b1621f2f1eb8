import { describe, expect, it } from 'vitest'
import { compileCondition, regexProblem } from '../../src/rules/conditions'
import type { RulesetIssue } from '../../src/rules/errors'
import type { ConditionDoc } from '../../src/rules/schema'

const ctx = {
  geo: { country: 'DE', city: 'Berlin', isEU: true, latitude: 52.5 },
  device: { type: 'mobile', isBot: false },
  time: { hour: 20, date: '2026-11-22', dayOfWeek: 'sun' },
  request: {
    path: '/products/sneakers',
    query: { ref: 'mail' },
    referrerHost: 'news.example.com',
    utm: { source: 'newsletter' },
  },
  behavior: { pageViews: 7, views: { product: 6 }, cartAdds: 1, purchases: 0 },
  profile: { tier: 'gold', interests: ['running', 'hiking'] },
  segments: ['eu', 'mobile'],
}

function test(cond: ConditionDoc): boolean {
  const issues: RulesetIssue[] = []
  const p = compileCondition(cond, 'when', issues)
  expect(issues).toEqual([])
  return p(ctx)
}

describe('conditions (SPEC 4.1)', () => {
  it('scalar equality and all-of semantics', () => {
    expect(test({ 'geo.country': 'DE' })).toBe(true)
    expect(test({ 'geo.country': 'FR' })).toBe(false)
    expect(test({ 'geo.country': 'DE', 'device.type': 'mobile' })).toBe(true)
    expect(test({ 'geo.country': 'DE', 'device.type': 'desktop' })).toBe(false)
    expect(test({ 'geo.isEU': true, 'behavior.purchases': 0 })).toBe(true)
  })

  it.each([
    [{ $eq: 'DE' }, true],
    [{ $eq: 'FR' }, false],
    [{ $ne: 'FR' }, true],
    [{ $ne: 'DE' }, false],
    [{ $in: ['AT', 'DE'] }, true],
    [{ $in: ['AT'] }, false],
    [{ $nin: ['AT'] }, true],
    [{ $nin: ['DE'] }, false],
    [{ $exists: true }, true],
    [{ $exists: false }, false],
    [{ $startsWith: 'D' }, true],
    [{ $startsWith: 'E' }, false],
    [{ $contains: 'E' }, true],
    [{ $contains: 'X' }, false],
    [{ $regex: '^[A-E]{2}$' }, true],
    [{ $regex: '^F' }, false],
  ])('geo.country %j → %s', (t, expected) => {
    expect(test({ 'geo.country': t })).toBe(expected)
  })

  it('ordering operators compare numbers, and strings lexicographically, never mixed', () => {
    expect(test({ 'time.hour': { $gte: 18, $lt: 22 } })).toBe(true)
    expect(test({ 'time.hour': { $gt: 20 } })).toBe(false)
    expect(test({ 'time.hour': { $lte: 20 } })).toBe(true)
    expect(test({ 'time.date': { $gte: '2026-11-01', $lt: '2026-12-01' } })).toBe(true)
    expect(test({ 'time.hour': { $gt: '1' } })).toBe(false)
  })

  it('$and, $or, $not nest', () => {
    expect(test({ $or: [{ 'geo.country': 'FR' }, { 'device.type': 'mobile' }] })).toBe(true)
    expect(test({ $and: [{ 'geo.country': 'DE' }, { $not: { 'device.type': 'mobile' } }] })).toBe(false)
    expect(test({ $not: { $or: [{ 'geo.country': 'FR' }, { 'geo.country': 'IT' }] } })).toBe(true)
  })

  it('dotted paths reach nested attributes, query parameters and array claims', () => {
    expect(test({ 'behavior.views.product': { $gt: 5 } })).toBe(true)
    expect(test({ 'request.query.ref': 'mail' })).toBe(true)
    expect(test({ 'request.utm.source': 'newsletter' })).toBe(true)
    expect(test({ 'profile.interests': 'running' })).toBe(true)
    expect(test({ 'profile.interests': { $contains: 'hiking' } })).toBe(true)
    expect(test({ 'profile.interests': { $in: ['golf', 'hiking'] } })).toBe(true)
  })

  it('segments $contains sees the segments matched so far', () => {
    expect(test({ segments: { $contains: 'eu' } })).toBe(true)
    expect(test({ segments: { $contains: 'loyal' } })).toBe(false)
  })

  it('a missing attribute fails every test but $exists: false and $ne', () => {
    const missing = 'profile.nothing'
    expect(test({ [missing]: 'x' })).toBe(false)
    expect(test({ [missing]: null })).toBe(false)
    expect(test({ [missing]: { $in: ['x'] } })).toBe(false)
    expect(test({ [missing]: { $nin: ['x'] } })).toBe(false)
    expect(test({ [missing]: { $gt: 0 } })).toBe(false)
    expect(test({ [missing]: { $lt: 0 } })).toBe(false)
    expect(test({ [missing]: { $contains: 'x' } })).toBe(false)
    expect(test({ [missing]: { $startsWith: '' } })).toBe(false)
    expect(test({ [missing]: { $regex: '.*' } })).toBe(false)
    expect(test({ [missing]: { $exists: true } })).toBe(false)
    expect(test({ [missing]: { $exists: false } })).toBe(true)
    expect(test({ [missing]: { $ne: 'x' } })).toBe(true)
    // A whole missing branch (no visitor part without consent) behaves the same.
    expect(test({ 'visitor.sessions': { $gte: 0 } })).toBe(false)
  })

  it('reports unknown operators, attributes and bad shapes with their paths', () => {
    const issues: RulesetIssue[] = []
    compileCondition(
      { 'geo.country': { $like: 'D%' }, 'planet.name': 'earth', $xor: [] } as ConditionDoc,
      'segments.0.when',
      issues,
    )
    expect(issues.map((i) => i.path)).toEqual([
      'segments.0.when.geo.country.$like',
      'segments.0.when.planet.name',
      'segments.0.when.$xor',
    ])
  })
})

describe('$regex safety (checked on load)', () => {
  it.each(['(a+)+$', '(a*)*', '(x|xx)+y', '(\\w+\\s?)*$', '(.*a){3}'])(
    'accepts %s, which would backtrack in RegExp: it runs on the linear-time engine (test/hardening/regex.test.ts)',
    (p) => {
      expect(regexProblem(p)).toBeUndefined()
    },
  )
  it('rejects backreferences, invalid and over-long patterns', () => {
    expect(regexProblem('(a)\\1')).toMatch(/backreference/)
    expect(regexProblem('([')).toMatch(/does not compile/)
    expect(regexProblem('a'.repeat(257))).toMatch(/longer than 256/)
  })
  it('accepts ordinary patterns', () => {
    for (const p of ['^/products/[a-z-]+$', '^(de|at|ch)$', 'gold|platinum', '^\\d{5}$', '(?:ab)?c'])
      expect(regexProblem(p)).toBeUndefined()
  })
  it('matches only the first 1000 characters of an attribute', () => {
    const issues: RulesetIssue[] = []
    const p = compileCondition({ 'request.referrer': { $regex: 'END$' } }, 'w', issues)
    expect(p({ request: { referrer: `${'x'.repeat(995)}END` } })).toBe(true)
    expect(p({ request: { referrer: `${'x'.repeat(2000)}END` } })).toBe(false)
  })
})
