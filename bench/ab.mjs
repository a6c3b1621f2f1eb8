// `node bench/ab.mjs <a.mjs> <b.mjs> [--page /page-100KB] [--rounds 6] [--n 200] [--variant full|alone]`:
// two bundles of the Veneer Worker (e.g. main's and a change's, from `scripts/bundle-worker.mjs`),
// plus the passthrough and the floor, each in its own workerd process, measured in interleaved
// rounds of sequential requests: workerd CPU per request from /proc, medians of per-round ratios.
// Interleaving makes the comparison fair on a loaded machine, where absolute figures are not.
import { readFileSync } from 'node:fs'
import { Miniflare } from 'miniflare'
import { aloneRuleset, benchRuleset, floorOps } from './fixtures.mjs'
import { closeAgent, timedGet } from './measure.mjs'
import { startOrigin } from './origin.mjs'
import { cpuMs, floorScript, workerdPids } from './workers.mjs'

const args = process.argv.slice(2)
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt)
const [A, B] = args.filter((a, i) => !a.startsWith('--') && !(args[i - 1] ?? '').startsWith('--'))
const PAGE = arg('--page', '/page-100KB')
const ROUNDS = Number(arg('--rounds', '6'))
const N = Number(arg('--n', '200'))
const VARIANT = arg('--variant', 'full')
const ORIGIN_PORT = 9161

const SECRETS = { VISITOR_SECRET: 'bench-visitor-secret-0123456789abcdef' }

async function start(name, options, port, ruleset) {
  const before = new Set(workerdPids())
  const mf = new Miniflare({
    ...options,
    compatibilityDate: '2026-04-20',
    host: '127.0.0.1',
    port,
    bindings: { ORIGIN_URL: `http://127.0.0.1:${ORIGIN_PORT}`, ...SECRETS },
  })
  await mf.ready
  const pid = workerdPids().find((p) => !before.has(p))
  if (ruleset !== undefined) await (await mf.getKVNamespace('RULES')).put('ruleset', JSON.stringify(ruleset))
  return { name, mf, pid, url: `http://127.0.0.1:${port}${PAGE}` }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function main() {
  const origin = await startOrigin(ORIGIN_PORT)
  const full = benchRuleset()
  const ruleset = VARIANT === 'alone' ? aloneRuleset(full) : full
  const bundle = (path) => ({
    modules: [{ type: 'ESModule', path: 'veneer.mjs', contents: readFileSync(path, 'utf8') }],
    kvNamespaces: ['RULES'],
  })
  const workers = [
    await start(
      'passthrough',
      {
        modules: true,
        script: `export default { fetch(r, env) { const u = new URL(r.url); return fetch(env.ORIGIN_URL + u.pathname + u.search) } }`,
      },
      9162,
    ),
    await start('floor', { modules: true, script: floorScript(floorOps(full)) }, 9163),
    await start(`A ${A.split('/').pop()}`, bundle(A), 9164, ruleset),
    await start(`B ${B.split('/').pop()}`, bundle(B), 9165, ruleset),
  ]
  const per = new Map(workers.map((w) => [w.name, []]))
  try {
    for (const w of workers) for (let i = 0; i < 30; i++) await timedGet(w.url)
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? workers : [...workers].reverse()
      for (const w of order) {
        const c0 = cpuMs(w.pid)
        for (let i = 0; i < N; i++) await timedGet(w.url)
        per.get(w.name).push((cpuMs(w.pid) - c0) / N)
      }
    }
  } finally {
    for (const w of workers) await w.mf.dispose()
    closeAgent()
    origin.close()
    origin.closeAllConnections?.()
  }
  const names = workers.map((w) => w.name)
  const ratio = (x, y) => median(per.get(x).map((v, i) => v / per.get(y)[i]))
  console.log(`${VARIANT} ${PAGE}, ${ROUNDS} rounds × ${N} sequential requests; workerd CPU ms/request (median):`)
  for (const n of names) console.log(`  ${n.padEnd(40)} ${median(per.get(n)).toFixed(3)}`)
  console.log(
    `  A/floor ${ratio(names[2], 'floor').toFixed(3)}  B/floor ${ratio(names[3], 'floor').toFixed(3)}  B/A ${ratio(names[3], names[2]).toFixed(3)}`,
  )
  console.log(
    `  A/passthrough ${ratio(names[2], 'passthrough').toFixed(3)}  B/passthrough ${ratio(names[3], 'passthrough').toFixed(3)}`,
  )
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
