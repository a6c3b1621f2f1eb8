#!/usr/bin/env node
// `npm run schema`: writes schema/ruleset.schema.json from the zod schema in src/rules/schema.ts,
// and schema/catalog.schema.json from the one in src/recs/catalog.ts.
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadTs } from './load-ts.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { rulesetJsonSchema } = await loadTs(join(root, 'src/rules/json-schema.ts'))
writeFileSync(join(root, 'schema/ruleset.schema.json'), `${JSON.stringify(rulesetJsonSchema(), null, 2)}\n`)
console.log('veneer: wrote schema/ruleset.schema.json')
const { catalogJsonSchema } = await loadTs(join(root, 'src/recs/catalog.ts'))
writeFileSync(join(root, 'schema/catalog.schema.json'), `${JSON.stringify(catalogJsonSchema(), null, 2)}\n`)
console.log('veneer: wrote schema/catalog.schema.json')
