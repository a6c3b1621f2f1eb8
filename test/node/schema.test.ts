import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadTs } from '../../scripts/load-ts.mjs'

const root = join(import.meta.dirname, '..', '..')

describe('schema/ruleset.schema.json', () => {
  it('is what `npm run schema` generates from the zod schema (run it after changing src/rules/schema.ts)', async () => {
    const { rulesetJsonSchema } = await loadTs(join(root, 'src/rules/json-schema.ts'))
    const committed = JSON.parse(readFileSync(join(root, 'schema/ruleset.schema.json'), 'utf8'))
    expect(committed).toEqual(rulesetJsonSchema())
  })

  it('declares the SPEC 4 top-level sections and the operation names', () => {
    const text = readFileSync(join(root, 'schema/ruleset.schema.json'), 'utf8')
    const schema = JSON.parse(text)
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['settings', 'segments', 'placements', 'goals']))
    for (const op of [
      'setText',
      'setHtml',
      'replace',
      'before',
      'after',
      'prepend',
      'append',
      'remove',
      'setAttr',
      'removeAttr',
      'addClass',
      'removeClass',
    ]) {
      expect(text).toContain(`"${op}"`)
    }
  })
})

describe('$regex verdicts in Node agree with workerd (test/core/operators.test.ts)', () => {
  const { cases } = JSON.parse(readFileSync(join(root, 'test/fixtures/regex-portability.json'), 'utf8')) as {
    cases: [string, string | null][]
  }
  const loaded = loadTs(join(root, 'src/admin/validate.ts'))
  it.each(cases)('%s → %s', async (pattern, verdict) => {
    const { validateDocument } = await loaded
    const doc = { segments: [{ id: 's', when: { 'request.path': { $regex: pattern } } }] }
    const v = validateDocument(doc)
    if (verdict === null) expect(v.issues ?? []).toEqual([])
    else expect(v.issues.map((i: { message: string }) => i.message).join('\n')).toContain(verdict)
  })
})
