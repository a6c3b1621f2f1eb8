// `node bench/cost-breakdown.mjs [page ...]`: where the Veneer Worker's CPU goes. Runs variants
// of the Workers one at a time (each its own workerd process on port 9148) against the bench
// origin and prints workerd CPU per request (from /proc, sequential requests). See
// docs/performance.md, "Where the CPU goes".
import { Miniflare } from 'miniflare'
import { benchRuleset } from './fixtures.mjs'
import { closeAgent, timedGet } from './measure.mjs'
import { startOrigin } from './origin.mjs'
import { bundleVeneer, cpuMs, workerdPids } from './workers.mjs'

const PORT = 9148
const ORIGIN = 'http://127.0.0.1:9141'
const SELECTORS = [...new Set(benchRuleset().placements.map((p) => p.selector))]

const nativeRewriter = `const SEL = ${JSON.stringify(SELECTORS)}
export default { async fetch(request, env) {
  const u = new URL(request.url)
  const res = await fetch(env.ORIGIN_URL + u.pathname)
  const rw = new HTMLRewriter()
  for (const s of SEL) rw.on(s, { element(e) { e.setAttribute('data-variant', 'x') } })
  return rw.transform(res)
} }`
const passthrough = `export default { fetch(request, env) { const u = new URL(request.url); return fetch(env.ORIGIN_URL + u.pathname) } }`

async function main() {
  const pages = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['/page-20KB', '/page-100KB', '/page-1MB']
  const origin = await startOrigin(9141)
  const code = await bundleVeneer()
  const veneer = (ruleset) => ({
    modules: [{ type: 'ESModule', path: 'veneer.mjs', contents: code }],
    kvNamespaces: ruleset ? ['RULES'] : [],
    ruleset,
  })
  const full = benchRuleset()
  const variants = {
    'passthrough Worker': { modules: true, script: passthrough },
    'HTMLRewriter alone, 10 selectors (no Veneer)': { modules: true, script: nativeRewriter },
    'Veneer, no RULES binding (fallback)': veneer(undefined),
    'Veneer, no placement on the page (generic)': veneer({
      ...full,
      placements: full.placements.map((p) => ({ ...p, paths: ['/elsewhere'] })),
    }),
    'Veneer, 1 placement': veneer({ ...full, placements: full.placements.slice(0, 1) }),
    'Veneer, 10 placements (the bench ruleset)': veneer(full),
  }
  const rows = []
  try {
    for (const [name, { ruleset, ...options }] of Object.entries(variants)) {
      const before = new Set(workerdPids())
      const mf = new Miniflare({
        ...options,
        compatibilityDate: '2026-04-20',
        host: '127.0.0.1',
        port: PORT,
        bindings: { ORIGIN_URL: ORIGIN },
      })
      await mf.ready
      const pid = workerdPids().find((p) => !before.has(p))
      if (ruleset !== undefined) await (await mf.getKVNamespace('RULES')).put('ruleset', JSON.stringify(ruleset))
      const row = { variant: name }
      for (const page of pages) {
        const n = page.includes('MB') ? 60 : 300
        let state
        for (let i = 0; i < 20; i++) state = (await timedGet(`http://127.0.0.1:${PORT}${page}`)).headers['x-veneer']
        const c0 = cpuMs(pid)
        for (let i = 0; i < n; i++) await timedGet(`http://127.0.0.1:${PORT}${page}`)
        row[page] = Math.round(((cpuMs(pid) - c0) / n) * 1000) / 1000
        row.xVeneer = state ?? '-'
      }
      rows.push(row)
      await mf.dispose()
    }
  } finally {
    closeAgent()
    origin.close()
    origin.closeAllConnections?.()
  }
  console.log(`workerd CPU ms per request (sequential; ${new Date().toISOString()})`)
  console.log(['variant'.padEnd(46), ...pages.map((p) => p.replace('/page-', '').padStart(8)), '  x-veneer'].join(' '))
  for (const r of rows)
    console.log([r.variant.padEnd(46), ...pages.map((p) => String(r[p]).padStart(8)), `  ${r.xVeneer}`].join(' '))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
