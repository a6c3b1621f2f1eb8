import { env as workersEnv } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import catalog from '../../demo/catalog.json'
import history from '../../demo/recs-history.csv?raw'
import demo from '../../demo/ruleset.json'
import home from '../../demo/site/index.html?raw'
import sneakers from '../../demo/site/products/sneakers.html?raw'
import type { Env } from '../../src/env'
import { MODEL_KEY } from '../../src/recs/model'
import { encodeModel } from '../../src/recs/model-codec'
import { modelFromFiles } from '../../src/recs/offline'
import type { RulesetInput } from '../../src/rules/schema'
import { CF, origin, run, rulesKv } from '../helpers'

const env = workersEnv as unknown as Env & { RULES: KVNamespace }
const site = origin((req) => {
  const path = new URL(req.url).pathname
  const html = path === '/' ? home : path === '/products/sneakers' ? sneakers : '<p>not found</p>'
  return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } })
})

const visit = async (path: string) =>
  run(`https://shop.example${path}`, {
    kv: await rulesKv(demo as RulesetInput),
    app: { fetchOrigin: site.fetchOrigin },
    init: { headers: { accept: 'text/html' }, cf: CF.newYork },
  })

beforeAll(async () => {
  await env.RULES.put(MODEL_KEY, encodeModel(modelFromFiles(JSON.stringify(catalog), history)))
})

describe('the demo shop’s recommendations (demo/ruleset.json, catalog.json, recs-history.csv)', () => {
  it('"Popular right now" shows three catalog items, one per category', async () => {
    const { text } = await visit('/')
    const grid = /<div class="grid" id="popular">([\s\S]*?)<\/div>\n<\/main>/.exec(text)?.[1] ?? ''
    const shown = [...grid.matchAll(/href="\/products\/([a-z]+)"/g)].map((m) => m[1] as string)
    expect(shown).toHaveLength(3)
    const category = new Map(catalog.items.map((i) => [i.id, i.category]))
    expect(new Set(shown.map((id) => category.get(id))).size).toBe(3)
    expect(grid).toContain('<img class="swatch" src="/assets/products/')
  })

  it('a product page shows "Customers who viewed this also viewed": socks first for the sneakers', async () => {
    const { text } = await visit('/products/sneakers')
    const grid = /<div class="grid" id="also-viewed">([\s\S]*?)<\/div><\/section>/.exec(text)?.[1] ?? ''
    const shown = [...grid.matchAll(/href="\/products\/([a-z]+)"/g)].map((m) => m[1])
    expect(shown[0]).toBe('socks') // the planted pair in demo/recs-history.csv
    expect(shown).toHaveLength(2)
    expect(shown).not.toContain('sneakers')
  })
})
