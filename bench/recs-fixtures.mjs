// The recommendations bench's fixtures (bench/recs.mjs, bench/profile-recs.mjs): a model of `n`
// items × 20 neighbours in the logical form the scheduled build produces, the item template, the
// same 8 items as fixed HTML, and the bench ruleset with an 11th placement on `#recommend`.
import { join } from 'node:path'
import { loadTs } from '../scripts/load-ts.mjs'
import { benchRuleset } from './fixtures.mjs'

export const TEMPLATE =
  '<article class="rec"><a href="{{item.url}}"><img src="{{item.image}}" alt=""><h3>{{item.title}}</h3></a><span>{{item.price}}</span></article>'

export function modelDoc(n) {
  const items = Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    title: `Everyday item number ${i}`,
    url: `/products/p${i}`,
    image: `/img/p${i}.webp`,
    category: `c${i % 12}`,
    price: `$${(i % 90) + 9}.99`,
  }))
  items.push({ id: '100KB', title: 'The bench page', url: '/page-100KB', category: 'c0', price: '$1' })
  const alsoViewed = {}
  for (let i = 0; i < n; i++)
    alsoViewed[`p${i}`] = Array.from({ length: 20 }, (_, k) => [`p${(i * 7 + k * 13 + 1) % n}`, 1 - k / 25])
  alsoViewed['100KB'] = Array.from({ length: 20 }, (_, k) => [`p${k * 17}`, 1 - k / 25])
  const popular = items.slice(0, 100).map((i) => i.id)
  return {
    version: 'bench',
    builtAt: new Date().toISOString(),
    catalogVersion: 'bench',
    items,
    alsoViewed,
    alsoBought: {},
    trending: popular,
    popular,
    popularByCategory: {},
  }
}

export const staticHtml = Array.from(
  { length: 8 },
  (_, k) =>
    `<article class="rec"><a href="/products/p${k * 17}"><img src="/img/p${k * 17}.webp" alt=""><h3>Everyday item number ${k * 17}</h3></a><span>$${((k * 17) % 90) + 9}.99</span></article>`,
).join('')

export const recommendOp = { op: 'recommend', strategy: 'also-viewed', count: 8, explore: 0.125, template: TEMPLATE }

/** The bench ruleset (50 segments, 10 placements) with `op` on `#recommend` for every visitor. */
export function recsRuleset(op, budgetMs) {
  const r = benchRuleset({ segments: 50, placements: 10, budgetMs })
  r.settings.items = { path: '/page-:id' }
  r.placements.push({
    id: 'recs',
    paths: ['/*'],
    selector: '#recommend',
    variants: [{ id: 'on', ops: [op] }],
    rules: [{ variant: 'on' }],
  })
  return r
}

/**
 * The KV entries of the model: `legacy`, the first stored format (one JSON document, no meta);
 * otherwise what the scheduled build writes (src/recs/model-codec.ts's `modelKvEntries`).
 */
export async function modelEntries(doc, { legacy = false } = {}) {
  if (legacy) return [['recs:model', JSON.stringify(doc)]]
  const { modelKvEntries } = await loadTs(join(import.meta.dirname, '..', 'src', 'recs', 'model-codec.ts'))
  return modelKvEntries(doc)
}
