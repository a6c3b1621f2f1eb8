#!/usr/bin/env node
// `npm run seed`: put the demo ruleset, catalog and recommendations model into local KV, replacing whatever is there.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { seedRecs } from './seed-recs.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const wrangler = join(root, 'node_modules', '.bin', 'wrangler')
const demoPath = join(root, 'demo', 'ruleset.json')
const version = JSON.parse(readFileSync(demoPath, 'utf8')).version
for (const key of ['ruleset', `ruleset:v:${version}`]) {
  execFileSync(wrangler, ['kv', 'key', 'put', key, '--path', demoPath, '--binding', 'RULES', '--local'], {
    cwd: root,
    stdio: 'inherit',
  })
}
console.log(`veneer: demo ruleset ${version} seeded`)
const recs = await seedRecs()
console.log(`veneer: demo catalog ${recs.catalog} and recommendations model ${recs.model} seeded`)
