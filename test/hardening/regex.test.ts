import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { regexProblem } from '../../src/rules/conditions'
import { compileLinearRegex } from '../../src/rules/regex'
import fixture from '../fixtures/regex-verdicts.json'

function linear(pattern: string) {
  const c = compileLinearRegex(pattern)
  if (!c.ok) throw new Error(c.problem)
  return c.regex
}

const atom = fc.constantFrom(
  'a',
  'b',
  '.',
  '\\d',
  '\\w',
  '\\s',
  '\\W',
  '[ab]',
  '[^a]',
  '[a-c_]',
  '[]',
  '[^]',
  'x',
  '\\.',
  '-',
  '{',
  '}',
)
const assertion = fc.constantFrom('^', '$', '\\b', '\\B')
const quantifier = fc.constantFrom('', '', '*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '+?', '{2,}?')
// Nesting is bounded (maxDepth) and the seed is fixed: the reference is V8's backtracking
// RegExp, and an unbounded random pattern can make *it* run for minutes, blocking the test.
const pattern: fc.Arbitrary<string> = fc.letrec<{ p: string; item: string }>((tie) => ({
  item: fc.oneof(
    { maxDepth: 2, depthIdentifier: 'group' },
    { weight: 5, arbitrary: fc.tuple(atom, quantifier).map(([a, q]) => a + q) },
    { weight: 1, arbitrary: assertion },
    { weight: 2, arbitrary: fc.tuple(tie('p'), quantifier, fc.boolean()).map(([p, q, nc]) => `(${nc ? '?:' : ''}${p})${q}`) },
  ),
  p: fc
    .array(
      fc.array(tie('item'), { maxLength: 4 }).map((xs) => xs.join('')),
      { minLength: 1, maxLength: 3 },
    )
    .map((alts) => alts.join('|')),
})).p
const input = fc
  .array(fc.constantFrom('a', 'b', 'c', 'x', ' ', '_', '\n', '.', '-', '{', '1'), { maxLength: 12 })
  .map((c) => c.join(''))

describe('$regex runs on a linear-time engine (issue 10, medium)', () => {
  it('answers exactly what RegExp answers, on random patterns and inputs', () => {
    fc.assert(
      fc.property(pattern, fc.array(input, { minLength: 1, maxLength: 8 }), (p, inputs) => {
        let re: RegExp
        try {
          re = new RegExp(p)
        } catch {
          return // not JavaScript: refused before the engine sees it
        }
        const c = compileLinearRegex(p)
        if (!c.ok && c.problem.includes('too large')) return // refused for its size, not matched differently
        const mine = linear(p)
        for (const s of inputs) expect(mine.test(s), `${p} on ${JSON.stringify(s)}`).toBe(re.test(s))
      }),
      { numRuns: 1000, seed: 20261130 },
    )
  }, 60_000)

  it.each(Object.entries(fixture.verdicts))('verdict for %s: accepted = %s', (p, accepted) => {
    expect(regexProblem(p) === undefined).toBe(accepted)
  })

  it('patterns that backtrack catastrophically in RegExp answer at once on long inputs', () => {
    const a = 'a'.repeat(1000)
    expect(linear('^(aa?)+$').test(`${a}!`)).toBe(false)
    expect(linear('^(aa?)+$').test(a)).toBe(true)
    expect(linear('a*a*a*a*a*a*b').test(a)).toBe(false)
    expect(linear('(a+)+$').test(`${a}!`)).toBe(false)
    expect(linear('(x|xx)+y').test('x'.repeat(1000))).toBe(false)
    expect(linear('(.*a){20}').test(`${'a'.repeat(19)}${'b'.repeat(980)}`)).toBe(false)
  })
})
