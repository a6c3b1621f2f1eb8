import { describe, expect, it } from 'vitest'
import { compileCondition } from '../../src/rules/conditions'
import type { RulesetIssue } from '../../src/rules/errors'
import { Condition } from '../../src/rules/schema'
import vectors from '../fixtures/growthbook-conditions.json'

/**
 * GrowthBook's published SDK condition vectors (test/fixtures/growthbook-conditions.json, ported
 * by the script beside it), run through Veneer's schema and compiler. Veneer agrees with every
 * one except these deliberate, documented differences (docs/ruleset.md, "Conditions").
 */
const DIFFERENCES: Record<string, { veneer: boolean | 'refused'; why: string }> = {
  '$in - not array': { veneer: 'refused', why: 'an operand of the wrong type is refused on publish, not silently false' },
  '$nin - not array': { veneer: 'refused', why: 'same' },
  '$ini - not array': { veneer: 'refused', why: 'same ($iin)' },
  '$regex invalid - pass': { veneer: 'refused', why: 'a $regex that does not compile is refused on publish' },
  '$regex invalid - fail': { veneer: 'refused', why: 'same' },
  'empty $or - pass': { veneer: 'refused', why: 'an empty $or/$and is refused on publish (issue 11)' },
  'empty $and - pass': { veneer: 'refused', why: 'same' },
  'missing attribute with comparison operators': {
    veneer: false,
    why: 'a missing attribute fails every test except $exists: false and $ne',
  },
  'comparing numbers and strings - v2': {
    veneer: false,
    why: 'a string operand compares strings; only a number operand reads numeric strings as numbers',
  },
  'null condition - missing attribute': {
    veneer: false,
    why: 'a null test matches an attribute that is null, not a missing one (use $exists: false)',
  },
}

interface Vector {
  name: string
  when: unknown
  profile: Record<string, unknown>
  expected: boolean
}

function outcome(v: Vector): boolean | 'refused' {
  const parsed = Condition.safeParse(v.when)
  if (!parsed.success) return 'refused'
  const issues: RulesetIssue[] = []
  const predicate = compileCondition(parsed.data, 'when', issues)
  return issues.length > 0 ? 'refused' : predicate({ profile: v.profile })
}

describe(`GrowthBook evalCondition vectors (${vectors.cases.length} of ${vectors.total} ported)`, () => {
  it.each((vectors.cases as Vector[]).map((v) => [v.name, v] as const))('%s', (name, v) => {
    const expected = DIFFERENCES[name]?.veneer ?? v.expected
    expect(outcome(v)).toBe(expected)
  })

  it('agrees on all but the listed differences, and each listed one is a real vector', () => {
    const names = new Set(vectors.cases.map((v) => v.name))
    for (const name of Object.keys(DIFFERENCES)) expect(names.has(name), name).toBe(true)
    const agreeing = (vectors.cases as Vector[]).filter((v) => outcome(v) === v.expected).length
    expect(agreeing).toBe(vectors.cases.length - Object.keys(DIFFERENCES).length)
  })
})
