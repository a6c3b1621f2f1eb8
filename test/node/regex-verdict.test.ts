import { describe, expect, it } from 'vitest'
import { regexProblem } from '../../src/rules/conditions'
import fixture from '../fixtures/regex-verdicts.json'

// The same verdicts as test/hardening/regex.test.ts asserts inside workerd: Node (the CLI's
// `validate`) and the Worker accept and refuse the same patterns.
describe('$regex verdicts in Node (issue 10)', () => {
  it.each(Object.entries(fixture.verdicts))('%s: accepted = %s', (p, accepted) => {
    expect(regexProblem(p) === undefined).toBe(accepted)
  })
})
