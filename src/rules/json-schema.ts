import { z } from 'zod'
import { RulesetDocument } from './schema'

/** The ruleset's JSON Schema (what an author may write: defaults make fields optional). */
export function rulesetJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(RulesetDocument, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://veneer.dev/schema/ruleset.schema.json',
    title: 'Veneer ruleset',
  }
}
