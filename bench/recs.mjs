// `node bench/recs.mjs [--quick] [--items 5000]`: what a `recommend` placement costs (SPEC 11,
// issue 13). The same 100 KB page and 50-segment, 10-placement ruleset, served by three Workers
// in one run, rounds interleaved: the passthrough; Veneer with an 11th placement that is a static
// `setHtml` of the same size (the cost of any rewrite); and Veneer whose 11th placement is
// `recommend` (also-viewed, 8 items, one explored) from a model of `--items` items × 20 neighbours.
// CPU per request is read from each workerd process (/proc), as `npm run bench` does.
import { writeFileSync } from 'node:fs'
import { benchRuleset } from './fixtures.mjs'
import { closeAgent, load, timedGet } from './measure.mjs'
import { startOrigin } from './origin.mjs'
import { startWorkers } from './workers.mjs'

const args = process.argv.slice(2)
const QUICK = args.includes('--quick')
const ITEMS = args.includes('--items') ? Number(args[args.indexOf('--items') + 1]) : 5000
const ROUNDS = QUICK ? 1 : 3
const DURATION_S = QUICK ? 3 : 8
const PORTS = {
  origin: 9560,
  a: { passthrough: 9561, veneer: 9562, stalled: 9563 },
  b: { passthrough: 9564, veneer: 9565, stalled: 9566 },
}
const TEMPLATE =
  '<article class="rec"><a href="{{item.url}}"><img src="{{item.image}}" alt=""><h3>{{item.title}}</h3></a><span>{{item.price}}</span></article>'

function model(n) {
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

function ruleset(op) {
  const r = benchRuleset({ segments: 50, placements: 10, budgetMs: 50 })
  r.settings.items = { path: '/page-:id' }
  r.placements.push({
    id: 'recs',
    paths: ['/*'],
    selector: '#recommend',
    variants: [{ id: 'on', ops: [op] }],
    rules: [{ variant: 'on' }],
  })
  return JSON.stringify(r)
}

const round = (x) => Math.round(x * 1000) / 1000
const origin = await startOrigin(PORTS.origin)
const originUrl = `http://127.0.0.1:${PORTS.origin}`
const m = model(ITEMS)
const modelText = JSON.stringify(m)
const staticHtml = Array.from(
  { length: 8 },
  (_, k) =>
    `<article class="rec"><a href="/products/p${k * 17}"><img src="/img/p${k * 17}.webp" alt=""><h3>Everyday item number ${k * 17}</h3></a><span>$${((k * 17) % 90) + 9}.99</span></article>`,
).join('')
const withStatic = await startWorkers({ originUrl, ports: PORTS.a, rulesetText: ruleset({ op: 'setHtml', value: staticHtml }) })
const withRecs = await startWorkers({
  originUrl,
  ports: PORTS.b,
  rulesetText: ruleset({ op: 'recommend', strategy: 'also-viewed', count: 8, explore: 0.125, template: TEMPLATE }),
})
await (await withRecs.veneer.mf.getKVNamespace('RULES')).put('recs:model', modelText)
const url = (w) => `${w.url}/page-100KB`
try {
  const check = await timedGet(url(withRecs.veneer))
  const body = await (await fetch(url(withRecs.veneer), { headers: { 'accept-encoding': 'identity' } })).text()
  const rendered = (body.match(/<article class="rec">/g) ?? []).length
  if (check.headers['x-veneer'] !== 'personalized' || rendered !== 8)
    throw new Error(`bench: recommendations not rendered (${rendered})`)
  const workers = { passthrough: withStatic.passthrough, static: withStatic.veneer, recommend: withRecs.veneer }
  const rows = Object.fromEntries(Object.keys(workers).map((k) => [k, []]))
  for (let r = 0; r < ROUNDS; r++)
    for (const [name, w] of Object.entries(workers)) {
      console.error(`round ${r + 1}/${ROUNDS}: ${name}`)
      rows[name].push(await load(url(w), { connections: 10, duration: DURATION_S, pid: w.pid }))
    }
  const cpu = (name) => round(rows[name].reduce((s, x) => s + x.cpuMsTotal, 0) / rows[name].reduce((s, x) => s + x.requests, 0))
  const rps = (name) => round(rows[name].reduce((s, x) => s + x.rps, 0) / rows[name].length)
  const out = {
    items: ITEMS,
    modelBytes: modelText.length,
    rounds: ROUNDS,
    durationS: DURATION_S,
    cpuMsPerRequest: { passthrough: cpu('passthrough'), static: cpu('static'), recommend: cpu('recommend') },
    rps: { passthrough: rps('passthrough'), static: rps('static'), recommend: rps('recommend') },
  }
  out.recommendOverStatic = round(out.cpuMsPerRequest.recommend / out.cpuMsPerRequest.static)
  out.recommendOverPassthrough = round(out.cpuMsPerRequest.recommend / out.cpuMsPerRequest.passthrough)
  console.log(JSON.stringify(out, null, 2))
  if (!QUICK) writeFileSync('bench/results.recs.json', `${JSON.stringify(out, null, 2)}\n`)
} finally {
  closeAgent()
  await withStatic.dispose()
  await withRecs.dispose()
  origin.close()
  origin.closeAllConnections?.()
}
