// `node bench/recs.mjs [--quick] [--items 5000] [--legacy]`: what a `recommend` placement costs
// (SPEC 11, issue 13). The same 100 KB page and 50-segment, 10-placement ruleset, served by four
// Workers in one run, 6 rounds interleaved (every other one in reverse order): the passthrough; the
// floor (a bare HTMLRewriter applying the bench's changes plus the recommendations block as a
// fixed `setHtml`); Veneer with an 11th placement that is a static `setHtml` of the same HTML (the
// cost of any rewrite); and Veneer whose 11th placement is `recommend` (also-viewed, 8 items, one
// explored) from a model of `--items` items × 20 neighbours. CPU per request is read from each
// workerd process (/proc), as `npm run bench` does. Then 5 cold isolates: a fresh Worker's first
// page with the model in KV (it has the recommendations, or the element as the origin sent it if
// the model is not ready) against a fresh Worker without one, the time until the model is in use,
// and the CPU the load costs (same requests to both). `--legacy`: the model in the first stored
// format (one JSON document), as the first cron wrote it.
import { writeFileSync } from 'node:fs'
import { floorOps } from './fixtures.mjs'
import { closeAgent, HEADERS, load } from './measure.mjs'
import { startOrigin } from './origin.mjs'
import { modelDoc, modelEntries, recommendOp, recsRuleset, staticHtml } from './recs-fixtures.mjs'
import { bundleVeneer, cpuMs, floorScript, PASSTHROUGH, start } from './workers.mjs'

const args = process.argv.slice(2)
const QUICK = args.includes('--quick')
const LEGACY = args.includes('--legacy')
const ITEMS = args.includes('--items') ? Number(args[args.indexOf('--items') + 1]) : 5000
const ROUNDS = QUICK ? 1 : 6
const DURATION_S = QUICK ? 3 : 8
const COLD_RUNS = QUICK ? 1 : 5
const BUDGET_MS = 50
const PORTS = { origin: 9560, passthrough: 9561, floor: 9562, static: 9563, recommend: 9564, cold: 9565 }
const round = (x) => Math.round(x * 1000) / 1000
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function page(url) {
  const t0 = performance.now()
  const res = await fetch(url, { headers: HEADERS })
  const headMs = performance.now() - t0
  const body = await res.text()
  return {
    headMs,
    ms: performance.now() - t0,
    veneer: res.headers.get('x-veneer'),
    rendered: (body.match(/<article class="rec">/g) ?? []).length,
    untouched: /<section id="recommend"><h2[^>]*>.*?<\/h2><\/section>/.test(body),
  }
}

const staticRuleset = recsRuleset({ op: 'setHtml', value: staticHtml }, BUDGET_MS)
const recsRules = recsRuleset(recommendOp, BUDGET_MS)
const modelKv = await modelEntries(modelDoc(ITEMS), { legacy: LEGACY })
const modelBytes = modelKv.reduce((n, [, v]) => n + v.length, 0)

const origin = await startOrigin(PORTS.origin)
const originUrl = `http://127.0.0.1:${PORTS.origin}`
const veneerCode = await bundleVeneer()
const bindings = { ORIGIN_URL: originUrl, VISITOR_SECRET: 'bench-visitor-secret-0123456789abcdef' }
const veneerModules = [{ type: 'ESModule', path: 'veneer.mjs', contents: veneerCode }]
const veneer = async (name, port, rules, entries = []) => {
  const w = await start(name, { port, modules: veneerModules, bindings, kvNamespaces: ['RULES'] })
  const kv = await w.mf.getKVNamespace('RULES')
  await kv.put('ruleset', JSON.stringify(rules))
  for (const [k, v] of entries) await kv.put(k, v)
  return w
}
const workers = {
  passthrough: await start('passthrough', { port: PORTS.passthrough, modules: true, script: PASSTHROUGH, bindings }),
  floor: await start('floor', {
    port: PORTS.floor,
    modules: true,
    script: floorScript([...floorOps(staticRuleset), ['#recommend', [{ op: 'setHtml', value: staticHtml }]]]),
    bindings,
  }),
  static: await veneer('static', PORTS.static, staticRuleset),
  recommend: await veneer('recommend', PORTS.recommend, recsRules, modelKv),
}
const url = (w) => `${w.url}/page-100KB`

/**
 * A fresh Worker's first page and the model load: `entries` in KV before it starts. The first
 * page is timed and checked; then a page every 50 ms until 8 items render (at most 20 s).
 */
async function coldRun(entries, polls) {
  const w = await veneer('cold', PORTS.cold, recsRules, entries)
  try {
    const cpu0 = cpuMs(w.pid)
    const first = await page(url(w))
    let readyMs = first.rendered === 8 ? first.ms : undefined
    let n = 0
    const t0 = performance.now() - first.ms
    while (polls === undefined ? readyMs === undefined && n < 400 : n < polls) {
      await sleep(50)
      const p = await page(url(w))
      n++
      if (polls === undefined && p.rendered === 8) readyMs = performance.now() - t0
    }
    await sleep(300)
    return { first, readyMs, polls: n, cpuMs: cpuMs(w.pid) - cpu0 }
  } finally {
    await w.mf.dispose()
  }
}

try {
  // A first format model is decoded after the first page: give it until it is in use.
  let check = await page(url(workers.recommend))
  for (let i = 0; i < 100 && check.rendered !== 8; i++) {
    await sleep(50)
    check = await page(url(workers.recommend))
  }
  if (check.veneer !== 'personalized' || check.rendered !== 8)
    throw new Error(`bench: recommendations not rendered (${check.rendered})`)
  const rows = Object.fromEntries(Object.keys(workers).map((k) => [k, []]))
  // Every other round runs the Workers in reverse order, so no Worker always follows another.
  for (let r = 0; r < ROUNDS; r++)
    for (const [name, w] of r % 2 === 0 ? Object.entries(workers) : Object.entries(workers).reverse()) {
      console.error(`round ${r + 1}/${ROUNDS}: ${name}`)
      rows[name].push(await load(url(w), { connections: 10, duration: DURATION_S, pid: w.pid }))
    }
  const cpu = (name) => round(rows[name].reduce((s, x) => s + x.cpuMsTotal, 0) / rows[name].reduce((s, x) => s + x.requests, 0))
  const rps = (name) => round(rows[name].reduce((s, x) => s + x.rps, 0) / rows[name].length)
  const p50 = (name) => round(rows[name].reduce((s, x) => s + x.latencyP50Ms, 0) / rows[name].length)
  const names = Object.keys(workers)
  const out = {
    items: ITEMS,
    format: LEGACY ? 'legacy (one JSON document)' : 'v2 (meta + compact model)',
    modelBytes,
    rounds: ROUNDS,
    durationS: DURATION_S,
    cpuMsPerRequest: Object.fromEntries(names.map((n) => [n, cpu(n)])),
    rps: Object.fromEntries(names.map((n) => [n, rps(n)])),
    latencyP50Ms: Object.fromEntries(names.map((n) => [n, p50(n)])),
  }
  out.recommendOverStatic = round(out.cpuMsPerRequest.recommend / out.cpuMsPerRequest.static)
  // Per round (the two Workers measured seconds apart), and their median: steadier than the
  // pooled ratio when other jobs load the machine unevenly over the run.
  const perRound = rows.recommend.map((x, i) =>
    round(x.cpuMsTotal / x.requests / (rows.static[i].cpuMsTotal / rows.static[i].requests)),
  )
  out.recommendOverStaticPerRound = perRound
  out.recommendOverStaticMedian = [...perRound].sort((a, b) => a - b)[Math.floor(perRound.length / 2)]
  out.recommendOverFloor = round(out.cpuMsPerRequest.recommend / out.cpuMsPerRequest.floor)
  out.staticOverFloor = round(out.cpuMsPerRequest.static / out.cpuMsPerRequest.floor)
  out.recommendOverPassthrough = round(out.cpuMsPerRequest.recommend / out.cpuMsPerRequest.passthrough)

  const cold = []
  for (let i = 0; i < COLD_RUNS; i++) {
    console.error(`cold isolate ${i + 1}/${COLD_RUNS}`)
    const withModel = await coldRun(modelKv)
    const without = await coldRun([], withModel.polls)
    cold.push({
      // Response head, then the whole page, with the model in KV and without one.
      firstPageHeadMs: round(withModel.first.headMs),
      firstPageHeadWithoutModelMs: round(without.first.headMs),
      firstPageMs: round(withModel.first.ms),
      firstPageWithoutModelMs: round(without.first.ms),
      // The first page either has the 8 items or the element exactly as the origin sent it.
      firstPage:
        withModel.first.rendered === 8 ? 'recommendations' : withModel.first.untouched ? 'as the origin sent it' : 'BROKEN',
      modelInUseAfterMs: withModel.readyMs === undefined ? null : round(withModel.readyMs),
      loadCpuMs: withModel.cpuMs - without.cpuMs,
    })
  }
  out.coldIsolate = { budgetMs: BUDGET_MS, runs: cold }
  out.loadAverage = (await import('node:os')).loadavg().map((x) => round(x))
  console.log(JSON.stringify(out, null, 2))
  if (!QUICK) writeFileSync(`bench/results.recs${LEGACY ? '.legacy' : ''}.json`, `${JSON.stringify(out, null, 2)}\n`)
} finally {
  closeAgent()
  for (const w of Object.values(workers)) await w.mf.dispose()
  origin.close()
  origin.closeAllConnections?.()
}
