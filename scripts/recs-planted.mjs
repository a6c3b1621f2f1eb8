#!/usr/bin/env node
// Writes a synthetic history with planted item groups (test/recs/planted.ts) as CSV, for
// `npx veneer recs evaluate <file>`. Usage: node scripts/recs-planted.mjs [out.csv] [--visitors N] [--seed N]
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadTs } from './load-ts.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values, positionals } = parseArgs({
  options: { visitors: { type: 'string' }, seed: { type: 'string' }, groups: { type: 'string' } },
  allowPositionals: true,
})
const { plantedCsv } = await loadTs(join(root, 'test/recs/planted.ts'))
const csv = plantedCsv({
  visitors: values.visitors === undefined ? 20_000 : Number(values.visitors),
  seed: values.seed === undefined ? 1 : Number(values.seed),
  groups: values.groups === undefined ? 10 : Number(values.groups),
})
const out = positionals[0] ?? 'planted-events.csv'
writeFileSync(out, csv)
console.log(`wrote ${out} (${csv.split('\n').length - 2} events)`)
