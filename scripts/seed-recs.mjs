// The demo's recommendations in local KV: demo/catalog.json as `catalog`, and `recs:model` built
// from demo/recs-history.csv with the Worker's own model code (src/recs/offline.ts), so the
// demo placements show recommendations before the shop has counted a single view.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadTs } from './load-ts.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const wrangler = join(root, 'node_modules', '.bin', 'wrangler')

export async function seedRecs() {
  const catalogText = readFileSync(join(root, 'demo', 'catalog.json'), 'utf8')
  const { modelFromFiles } = await loadTs(join(root, 'src', 'recs', 'offline.ts'))
  const { modelKvEntries } = await loadTs(join(root, 'src', 'recs', 'model-codec.ts'))
  const model = modelFromFiles(catalogText, readFileSync(join(root, 'demo', 'recs-history.csv'), 'utf8'))
  const catalog = JSON.parse(catalogText)
  delete catalog.$schema
  const dir = mkdtempSync(join(tmpdir(), 'veneer-recs-'))
  try {
    // The model as the scheduled build stores it (format 2 and its meta value).
    for (const [key, value] of [
      ['catalog', JSON.stringify(catalog)],
      [`catalog:v:${catalog.version}`, JSON.stringify(catalog)],
      ...modelKvEntries(model),
    ]) {
      const file = join(dir, 'value.txt')
      writeFileSync(file, value)
      execFileSync(wrangler, ['kv', 'key', 'put', key, '--path', file, '--binding', 'RULES', '--local'], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return { catalog: catalog.version, model: model.version, items: model.items.length }
}
